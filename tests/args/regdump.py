# Run inside gdb (gdb -nx -batch -x regdump.py --args PROG): stops at the entry of every
# function listed in $ARGS_ENTRIES (hex addresses) and at its return address, and writes
# the nine integer registers of Go's ABIInternal (RAX RBX RCX RDI RSI R8-R11) at both to
# $ARGS_DUMP, "entry ADDR R..." then "return ADDR R...". This is the truth the reader's
# register assignment is checked against: gdb knows nothing of Go's ABI. A call is
# matched to its return by the stack pointer (entry SP + 8 once the return address is
# popped), so nested calls (a closure called from a function) pair up right.
import os

import gdb

REGS = ["rax", "rbx", "rcx", "rdi", "rsi", "r8", "r9", "r10", "r11"]


def reg(name):
    return int(gdb.parse_and_eval("$" + name)) & (2**64 - 1)


def main():
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("set language c")  # for the cast below; Go mode has no "unsigned long"
    gdb.execute("handle SIGURG nostop noprint pass")  # Go's preemption signal
    entries = {int(a, 16) for a in os.environ["ARGS_ENTRIES"].split()}
    for a in entries:
        gdb.execute("break *0x%x" % a, to_string=True)
    out = open(os.environ["ARGS_DUMP"], "w")
    pending = {}  # SP after the return -> entry address
    gdb.execute("run", to_string=True)
    while gdb.selected_inferior().pid:
        pc, sp = reg("pc"), reg("sp")
        regs = " ".join("%x" % reg(r) for r in REGS)
        if pc in entries:
            pending[sp + 8] = pc
            out.write("entry %x %s\n" % (pc, regs))
            ret = int(gdb.parse_and_eval("*(unsigned long *)$sp")) & (2**64 - 1)
            gdb.execute("tbreak *0x%x" % ret, to_string=True)
        elif sp in pending:
            out.write("return %x %s\n" % (pending.pop(sp), regs))
        try:
            gdb.execute("continue", to_string=True)
        except gdb.error:  # the program exited under the "continue"
            break
    out.close()


main()
