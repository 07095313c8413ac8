"""Real servers (sshd, telnetd, agetty, ser2net, nginx) started by test fixtures on 127.0.0.1."""
