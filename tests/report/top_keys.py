#!/usr/bin/env python3
"""golat top on a terminal (a pty), driven by its keys, as a user would.

Usage: top_keys.py GOLAT PID
PID runs tests/report/prog in `top` mode with main.many, main.tail and main.steady
hooked: by total the order is steady, tail, many; by p99 tail, steady, many; by calls
many, tail, steady. Checks: each sort key (t p c s) reorders the rows and names itself
in the title; / types a filter (live, a substring or a glob), Enter keeps it, Esc
drops it; Esc clears a kept one; q quits with status 0; and on every way out — q,
SIGINT, SIGTERM, SIGHUP — and while stopped by SIGTSTP the terminal is back as it
was (canonical, echoing), raw again after SIGCONT.

golat top runs in a session of its own, in a foreground process group whose parent
is in the same session (as under a shell with job control): a process group without
one is "orphaned", and the kernel would discard its SIGTSTP.
"""
import fcntl
import os
import select
import signal
import struct
import sys
import termios
import time

GOLAT, PID = sys.argv[1], sys.argv[2]
failures = 0


def bad(msg):
    global failures
    failures += 1
    print(f"FAIL: {msg}")


def ok(msg):
    print(f"ok: {msg}")


def spawn(argv):
    """Starts argv on a new pty: returns (middle pid, golat pid, master fd, the pty's
    modes before golat ran: read here, as golat may make it raw before spawn returns)."""
    master, slave = os.openpty()
    fresh = termios.tcgetattr(slave)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 150, 0, 0))
    r, w = os.pipe()
    mid = os.fork()
    if mid == 0:
        try:
            os.close(master)
            os.close(r)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            gc = os.fork()
            if gc == 0:
                os.setpgid(0, 0)
                signal.signal(signal.SIGTTOU, signal.SIG_IGN)
                os.tcsetpgrp(slave, os.getpgrp())
                signal.signal(signal.SIGTTOU, signal.SIG_DFL)
                for fd in (0, 1, 2):
                    os.dup2(slave, fd)
                os.execv(argv[0], argv)
            try:
                os.setpgid(gc, gc)
            except OSError:
                pass
            os.write(w, str(gc).encode())
            os.close(w)
            _, st = os.waitpid(gc, 0)
            os._exit(os.waitstatus_to_exitcode(st) & 0xFF if os.WIFEXITED(st) else 200)
        except BaseException:
            os._exit(99)
    os.close(slave)
    os.close(w)
    gc = int(os.read(r, 32))
    os.close(r)
    return mid, gc, master, fresh


class Screen:
    def __init__(self, master):
        self.master, self.buf = master, b""

    def pump(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.buf += os.read(self.master, 65536)
            except OSError:
                pass

    def frame(self):
        """The last complete table: from the last clear-screen to its status line."""
        text = self.buf.decode("utf-8", "replace").replace("\r", "")
        last = text.split("\033[H\033[2J")[-1]
        return last if ("q quit" in last or "filter (" in last) else None

    def wait(self, pred, what, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            f = self.frame()
            if f is not None and pred(f):
                return f
            self.pump(0.1)
        bad(f"{what}: never shown; last frame:\n{self.frame()}")
        return None


def rows(frame):
    return [line.split()[0] for line in frame.split("\n") if line.startswith("main.")]


def termios_raw(master):
    lflag = termios.tcgetattr(master)[3]
    return not (lflag & termios.ICANON) and not (lflag & termios.ECHO)


def wait_exit(mid, what, want=0):
    end = time.monotonic() + 10
    while time.monotonic() < end:
        p, st = os.waitpid(mid, os.WNOHANG)
        if p:
            code = os.waitstatus_to_exitcode(st)
            if code != want:
                bad(f"{what}: golat top exited {code}, want {want}")
            return True
        time.sleep(0.05)
    bad(f"{what}: golat top did not exit")
    return False


def restored(master, what):
    if termios_raw(master):
        bad(f"{what}: the terminal is still raw")
    else:
        ok(f"{what}: the terminal is restored")


def sort_keys(scr, master):
    orders = [("t", "total", ["main.steady", "main.tail", "main.many"]),
              ("p", "p99", ["main.tail", "main.steady", "main.many"]),
              ("c", "calls", ["main.many", "main.tail", "main.steady"]),
              # No recorder counts self time yet: every SELF is 0 ("-"), ties go by total.
              ("s", "self", ["main.steady", "main.tail", "main.many"]),
              ("t", "total", ["main.steady", "main.tail", "main.many"])]
    for key, name, want in orders:
        os.write(master, key.encode())
        f = scr.wait(lambda f: f", by {name}" in f.split("\n")[0], f"key {key}: by {name}")
        if f is not None and rows(f) != want:
            bad(f"key {key}: rows {rows(f)}, want {want}")
        elif f is not None:
            ok(f"key {key}: by {name}, {' '.join(want)}")


def filters(scr, master):
    os.write(master, b"/ta")
    f = scr.wait(lambda f: "filter 'ta': 1" in f and "ta_" in f, "/ta typed: a live filter")
    if f is not None and rows(f) != ["main.tail"]:
        bad(f"/ta: rows {rows(f)}")
    os.write(master, b"\r")
    f = scr.wait(lambda f: "filter 'ta': 1" in f and "q quit" in f, "Enter keeps the filter")
    os.write(master, b"\x1b")
    f = scr.wait(lambda f: "filter '" not in f and len(rows(f)) == 3, "Esc clears the filter")
    os.write(master, b"/main.[ms]*\r")
    f = scr.wait(lambda f: "filter 'main.[ms]*': 2" in f and "q quit" in f, "a glob filter")
    if f is not None and rows(f) != ["main.steady", "main.many"]:
        bad(f"glob main.[ms]*: rows {rows(f)}")
    os.write(master, b"/xyz\x1b")
    f = scr.wait(lambda f: "filter '" not in f and len(rows(f)) == 3 and "q quit" in f,
                 "Esc while typing drops the filter")
    os.write(master, b"/s\x7f\x7fsteady\r")
    scr.wait(lambda f: "filter 'steady': 1" in f, "Backspace while typing")
    os.write(master, b"\x1b[A\x1b")  # an arrow key is no Escape; the Esc after it is
    scr.wait(lambda f: "filter '" not in f and len(rows(f)) == 3, "an arrow key, then Esc")
    if failures == 0:
        ok("filters: live typing, substring, glob, Enter, Esc, Backspace")


def main():
    argv = [GOLAT, "top", PID, "-d", "0.3"]
    mid, gc, master, before = spawn(argv)
    scr = Screen(master)
    scr.wait(lambda f: len(rows(f)) == 3, "the first table")
    if not termios_raw(master):
        bad("golat top on a terminal did not make it raw")
    sort_keys(scr, master)
    filters(scr, master)
    os.write(master, b"q")
    if wait_exit(mid, "q"):
        restored(master, "q")
        if termios.tcgetattr(master)[3] != before[3]:
            bad("q: local modes differ from before")
    os.close(master)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        mid, gc, master, _ = spawn(argv)
        scr = Screen(master)
        scr.wait(lambda f: len(rows(f)) == 3, f"{sig.name}: the first table")
        os.kill(gc, sig)
        if wait_exit(mid, sig.name):
            restored(master, sig.name)
        os.close(master)

    mid, gc, master, _ = spawn(argv)
    scr = Screen(master)
    scr.wait(lambda f: len(rows(f)) == 3, "SIGTSTP: the first table")
    os.kill(gc, signal.SIGTSTP)
    end = time.monotonic() + 10
    while time.monotonic() < end and open(f"/proc/{gc}/stat").read().split(") ")[1][0] != "T":
        scr.pump(0.05)
    restored(master, "stopped by SIGTSTP")
    scr.buf = b""
    os.kill(gc, signal.SIGCONT)
    scr.wait(lambda f: len(rows(f)) == 3, "SIGCONT: drawn again")
    if termios_raw(master):
        ok("SIGCONT: raw again")
    else:
        bad("SIGCONT: the terminal is not raw again")
    os.write(master, b"q")
    if wait_exit(mid, "q after SIGCONT"):
        restored(master, "q after SIGCONT")
    os.close(master)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
