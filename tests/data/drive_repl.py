# Drives craft's interactive shell through a pseudo-terminal (tests/repl.rs).
# Usage: drive_repl.py CRAFT DATA_HOME KEYS...   (KEYS as Python byte-string literals)
import os, pty, sys, time, select
craft = sys.argv[1]
env = dict(os.environ, XDG_DATA_HOME=sys.argv[2], TERM="xterm", NO_COLOR="1")
pid, fd = pty.fork()
if pid == 0:
    os.execve(craft, [craft], env)
out = b""
def pump(t=0.4):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                return
pump(0.8)
import ast
for keys in [ast.literal_eval(k) for k in sys.argv[3:]]:
    os.write(fd, keys)
    pump()
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
print("\nEXIT=%d" % os.waitstatus_to_exitcode(status))
