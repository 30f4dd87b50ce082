#!/usr/bin/env python3
"""Time the dashboard as a person sees it: lightbox runs in a real pseudo-terminal that answers
the queries an xterm with sixel graphics answers, and the timings are read off the bytes the
program writes to it.

  first image: from starting the program to the last byte of the first sixel image
               (the whole picture is on the screen)
  first screen: from starting the program to the first screen drawn (the case list)
  next case:   from pressing `j` to the last byte of the next sixel image

Usage: dashboard_pty.py LIGHTBOX PACK [--presses N] [--pause S] [--cols C --rows R]
Prints one JSON object (times in milliseconds).

Standard library only (pty, select): nothing else is needed to run it.
"""
import argparse
import json
import os
import pty
import re
import select
import signal
import statistics
import struct
import sys
import termios
import fcntl
import time

CELL = (10, 20)  # pixels per cell the fake terminal reports (CSI 16 t)
QUIET = 0.12  # an image is complete when the output pauses this long after a sixel's end


def answers(buf, cols, rows):
    """Replies to the terminal queries in `buf`, in their order (what xterm -ti vt340 answers;
    it ignores kitty's graphics query)."""
    replies = {
        b"\x1b[16t": b"\x1b[6;%d;%dt" % (CELL[1], CELL[0]),
        b"\x1b[14t": b"\x1b[4;%d;%dt" % (rows * CELL[1], cols * CELL[0]),
        b"\x1b[?2;1;0S": b"\x1b[?2;0;1000;1000S",  # XTSMGRAPHICS: the largest sixel image
        b"\x1b[5n": b"\x1b[0n",  # device status: OK
        b"\x1b[c": b"\x1b[?63;1;4;22c",  # primary device attributes (4 = sixel)
        b"\x1b[0c": b"\x1b[?63;1;4;22c",
    }
    pattern = b"|".join(re.escape(k) for k in replies)
    return b"".join(replies[m.group(0)] for m in re.finditer(pattern, buf))


def run(lightbox, pack, presses, pause, cols, rows, settle):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.environ.pop("TMUX", None)
        os.environ.pop("KITTY_WINDOW_ID", None)
        os.execv(lightbox, [lightbox, "open", pack, "--graphics", "sixel", "--no-watch", "--fresh"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, cols * CELL[0], rows * CELL[1]))
    t0 = time.monotonic()
    pending = b""  # bytes not yet scanned for queries
    events = []  # (time, kind): 'screen' first draw, 'sixel-end' end of a sixel image
    in_sixel = False
    last_sixel_end = None
    first_screen = None

    def pump(timeout):
        nonlocal pending, in_sixel, last_sixel_end, first_screen
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            raise SystemExit("lightbox exited")
        now = time.monotonic()
        scan = pending + data
        reply = answers(data, cols, rows)  # a query is written whole
        if reply:
            os.write(fd, reply)
        if first_screen is None and b"Cases" in scan:  # the case list's title
            first_screen = now
        i = 0
        while i < len(data):
            if not in_sixel:
                j = scan.find(b"\x1bP", max(0, len(pending) + i - 1))
                if j < 0:
                    break
                # a sixel DCS: ESC P params q
                m = re.match(rb"\x1bP[0-9;]*q", scan[j:j + 16])
                if m:
                    in_sixel = True
                i = j - len(pending) + 2
            else:
                j = scan.find(b"\x1b\\", max(0, len(pending) + i - 1))
                if j < 0:
                    break
                in_sixel = False
                last_sixel_end = now
                i = j - len(pending) + 2
        pending = scan[-16:]
        return True

    def wait_image(since, limit=120.0):
        """Time of the last byte of the first complete image after `since`."""
        nonlocal last_sixel_end
        last_sixel_end = None
        deadline = since + limit
        while time.monotonic() < deadline:
            got = pump(QUIET)
            if not got and last_sixel_end is not None and not in_sixel:
                return last_sixel_end
        raise SystemExit("no image within %.0f s" % limit)

    try:
        first = wait_image(t0)
        result = {
            "first_screen_ms": round((first_screen - t0) * 1000, 1) if first_screen else None,
            "first_image_ms": round((first - t0) * 1000, 1),
        }
        # let it sit (background analysis keeps running), then walk the list
        end = time.monotonic() + settle
        while time.monotonic() < end:
            pump(0.05)
        nexts = []
        for _ in range(presses):
            t = time.monotonic()
            os.write(fd, b"j")
            done = wait_image(t, 30.0)
            nexts.append((done - t) * 1000)
            end = time.monotonic() + pause
            while time.monotonic() < end:
                pump(0.02)
        result["next_case_median_ms"] = round(statistics.median(nexts), 1)
        result["next_case_max_ms"] = round(max(nexts), 1)
        result["presses"] = presses
        os.write(fd, b"q")
        end = time.monotonic() + 3
        while time.monotonic() < end:
            try:
                if not pump(0.1):
                    pass
            except SystemExit:
                break
    finally:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("lightbox")
    p.add_argument("pack")
    p.add_argument("--presses", type=int, default=20)
    p.add_argument("--pause", type=float, default=0.3, help="seconds between key presses")
    p.add_argument("--settle", type=float, default=0.5, help="seconds after the first image before walking")
    p.add_argument("--cols", type=int, default=160)
    p.add_argument("--rows", type=int, default=48)
    a = p.parse_args()
    r = run(a.lightbox, a.pack, a.presses, a.pause, a.cols, a.rows, a.settle)
    r.update(cols=a.cols, rows=a.rows)
    print(json.dumps(r))


if __name__ == "__main__":
    sys.exit(main())
