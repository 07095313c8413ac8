"""Pattern machinery shared by the session (device dialogs) and the hop-shell transport (jump host dialogs).

Pure logic over a byte stream: screen text for matching, prompt matching, echo finding, the dialog engine.
"""
