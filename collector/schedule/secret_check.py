"""Refuse --password-command / --enable-command values that would carry the secret itself into the job store.

Detectable class: the command's output is written in the command (shell syntax, programs that print their
arguments, inline code for a shell or interpreter, assignments), also behind wrappers (env, sudo, timeout ...).
"""

from __future__ import annotations

import posixpath
import re

from ..playbook.shell_lex import ShellSyntax, Word, split_pipeline

# programs whose output is (or can be made from) their own arguments
EMITTERS = frozenset({
    "echo", "printf", "yes", "basename", "dirname", "expr", "realpath", "readlink", "seq", "date", "banner",
    "figlet", "toilet", "test", "[", "true", "false", "print", "logger", "wall", "write", "numfmt", "factor",
})
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "yash", "fish", "csh", "tcsh", "ash", "rbash"})
# interpreter -> the options that take program text on the command line ("*": the first operand is program text)
INLINE_CODE = {
    "python": ("-c",), "perl": ("-e", "-E"), "ruby": ("-e",), "node": ("-e", "-p", "--eval", "--print"),
    "nodejs": ("-e", "-p", "--eval", "--print"), "php": ("-r", "-B", "-E", "-R"), "lua": ("-e",),
    "Rscript": ("-e",), "osascript": ("-e",), "pwsh": ("-c", "-Command"), "powershell": ("-c", "-Command"),
    "deno": ("eval",), "bun": ("-e", "--eval"), "tclsh": ("*",), "awk": ("*",), "gawk": ("*",), "mawk": ("*",),
    "nawk": ("*",), "sed": ("*", "-e", "--expression"), "jq": ("-n", "--null-input", "--arg", "--rawfile"),
    "bc": ("*",), "dc": ("-e", "*"), "m4": ("*", "-D"), "expect": ("-c",), "gdb": ("-ex", "--batch"),
}
# wrappers -> how many operands they take before the command they run; options with an argument are skipped
WRAPPERS = {
    "env": 0, "command": 0, "exec": 0, "nice": 0, "nohup": 0, "setsid": 0, "stdbuf": 0, "timeout": 1, "sudo": 0,
    "doas": 0, "chroot": 1, "ionice": 0, "taskset": 1, "flock": 1, "time": 0, "xargs": 0, "watch": 0, "unbuffer": 0,
    "runuser": 0, "busybox": 0, "toybox": 0, "systemd-run": 0, "chrt": 1, "cgexec": 0, "firejail": 0, "strace": 0,
}
_WRAPPER_ARG_OPTIONS = {
    "env": {"-u", "--unset", "-C", "--chdir"}, "nice": {"-n", "--adjustment"}, "timeout": {"-s", "-k", "--signal",
    "--kill-after"}, "sudo": {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T"}, "doas": {"-u", "-C"},
    "ionice": {"-c", "-n", "-p", "-P", "-u"}, "stdbuf": {"-i", "-o", "-e"}, "xargs": {"-n", "-L", "-s", "-P", "-I",
    "-d", "-E", "-a"}, "runuser": {"-u", "-g", "-G", "-l"}, "watch": {"-n", "-d"}, "flock": {"-w", "-E"},
    "chroot": {"--userspec", "--groups"}, "strace": {"-o", "-e", "-p", "-s"},
}
# options whose argument is shell code (checked like a command of its own): -c / -S also at the end of a cluster
_CODE_OPTION = re.compile(r"^(-[A-Za-z]*[cS]|--command|--split-string)$")
_CODE_ATTACHED = re.compile(r"^(?:--(?:command|split-string)=|-S)(.+)$")
_VERSIONED = re.compile(r"^(python|perl|ruby|lua|php|tclsh|pwsh)[\d.]*$")
_MAX_NESTING = 8


def _name(word: Word) -> str:
    base = posixpath.basename(word.text)
    m = _VERSIONED.match(base)
    return m.group(1) if m else base


def _inline_code(name: str, rest: list[Word]) -> str | None:
    options = INLINE_CODE.get(name)
    if options is None:
        return None
    operands = [w for w in rest if not w.text.startswith("-")]
    if any(w.text in options or any(w.text.startswith(o + "=") for o in options if o.startswith("--")) for w in rest):
        return f"`{name}` is given program text on the command line"
    if "*" in options and operands and not any(w.text in ("-f", "--file") for w in rest):
        return f"`{name}` is given program text on the command line (only a program file is accepted)"
    return None


def _wrapped(name: str, rest: list[Word]) -> tuple[list[str], list[Word]]:
    """(code strings passed with -c / -S, the command the wrapper runs)."""
    codes: list[str] = []
    skip = WRAPPERS[name]
    with_arg = _WRAPPER_ARG_OPTIONS.get(name, set())
    i = 0
    while i < len(rest):
        text = rest[i].text
        if text == "--":
            i += 1
            break
        if not text.startswith("-"):
            if skip == 0:
                break
            skip -= 1
        elif _CODE_OPTION.match(text) and i + 1 < len(rest):
            codes.append(rest[i + 1].text)
            i += 1
        elif text in with_arg:
            i += 1
        i += 1
    return codes, rest[i:]


def _stage_problem(words: list[Word], depth: int) -> str | None:
    for word in words:
        if word.assignment:
            return f"{word.text!r} sets a variable in the command (its value would be stored as written)"
    name = _name(words[0])
    rest = words[1:]
    if name in EMITTERS:
        return f"`{name}` prints what is written in the command"
    if name in WRAPPERS or name in SHELLS or name in ("su", "script"):
        codes, command = _wrapped(name, rest) if name in WRAPPERS else ([], [])
        codes += [rest[i + 1].text for i, w in enumerate(rest[:-1]) if _CODE_OPTION.match(w.text)]
        codes += [m.group(1) for w in rest if (m := _CODE_ATTACHED.match(w.text))]
        for code in codes:
            problem = literal_secret_problem(code, depth + 1)
            if problem:
                return f"`{name}` runs {code!r}: {problem}"
        if name in ("busybox", "toybox") and command:
            command = [Word(posixpath.basename(command[0].text)), *command[1:]]
        if command:
            return _stage_problem(command, depth + 1) if depth < _MAX_NESTING else "too many nested wrappers"
        return None
    return _inline_code(name, rest)


def literal_secret_problem(command: str, depth: int = 0) -> str | None:
    """Why this command may print a literal written in it (so the secret would sit in the job store), or None.

    The check is structural: it cannot see what a script or an unknown program prints; the command is stored as
    written either way.
    """
    if depth > _MAX_NESTING:
        return "too deeply nested"
    try:
        stages = split_pipeline(command.strip())
    except ShellSyntax as exc:
        return f"{exc} (shell syntax can put a literal on the output, e.g. `true; echo S`, here-strings)"
    for words in stages:
        problem = _stage_problem(words, depth)
        if problem:
            return problem
    return None


__all__ = ["literal_secret_problem"]
