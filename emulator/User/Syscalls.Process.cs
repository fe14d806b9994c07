using System.Text;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.User;

/// <summary>Process, time and signal system calls (one thread, no signal delivery).</summary>
public sealed unsafe partial class Syscalls
{
    long ExitCall(int status)
    {
        process.Exit(status);
        return 0;
    }

    /// <summary>One thread: a wait whose value still matches could only be woken by another thread, so it
    /// would sleep forever; report EAGAIN for a changed value and ETIMEDOUT otherwise instead of hanging.</summary>
    long Futex(ulong uaddr, int op, uint val)
    {
        const int FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
        int cmd = op & 0x7F;
        if (cmd is FUTEX_WAKE or FUTEX_WAKE_BITSET) return 0;
        if (cmd is FUTEX_WAIT or FUTEX_WAIT_BITSET)
        {
            byte* p = Buffer(uaddr, 4, PagePerms.Read);
            if (p == null) return -EFAULT;
            return *(uint*)p != val ? -EAGAIN : -ETIMEDOUT;
        }
        return -ENOSYS;
    }

    long ClockGetTime(int clock, ulong tsVa, bool res)
    {
        if (tsVa == 0) return res ? 0 : -EFAULT;
        byte* p = Buffer(tsVa, 16, PagePerms.Write);
        if (p == null) return -EFAULT;
        return HostResult(res ? Libc.clock_getres(clock, p) : Libc.clock_gettime(clock, p));
    }

    long GetTimeOfDay(ulong tvVa, ulong tzVa)
    {
        if (tvVa != 0)
        {
            long* tv = (long*)Buffer(tvVa, 16, PagePerms.Write);
            if (tv == null) return -EFAULT;
            long* ts = stackalloc long[2];
            Libc.clock_gettime(0, ts); // CLOCK_REALTIME
            tv[0] = ts[0];
            tv[1] = ts[1] / 1000;
        }
        if (tzVa != 0)
        {
            byte* tz = Buffer(tzVa, 8, PagePerms.Write);
            if (tz == null) return -EFAULT;
            *(ulong*)tz = 0; // UTC, no DST
        }
        return 0;
    }

    long NanoSleep(ulong reqVa, ulong remVa)
    {
        byte* req = Buffer(reqVa, 16, PagePerms.Read);
        if (req == null) return -EFAULT;
        byte* rem = remVa == 0 ? null : Buffer(remVa, 16, PagePerms.Write);
        return HostResult(Libc.nanosleep(req, rem));
    }

    long ClockNanoSleep(int clock, int flags, ulong reqVa, ulong remVa)
    {
        long* req = (long*)Buffer(reqVa, 16, PagePerms.Read);
        if (req == null) return -EFAULT;
        long* rel = stackalloc long[2];
        rel[0] = req[0]; rel[1] = req[1];
        if ((flags & 1) != 0) // TIMER_ABSTIME: sleep until the clock reaches *req
        {
            long* now = stackalloc long[2];
            if (Libc.clock_gettime(clock, now) < 0) return -Libc.Errno;
            long ns = (req[0] - now[0]) * 1_000_000_000 + (req[1] - now[1]);
            if (ns <= 0) return 0;
            rel[0] = ns / 1_000_000_000; rel[1] = ns % 1_000_000_000;
        }
        return HostResult(Libc.nanosleep(rel, null));
    }

    long SchedGetAffinity(ulong size, ulong maskVa)
    {
        // One CPU: user mode runs the program on one emulated PE.
        if (size < 8 || (size & 7) != 0) return -EINVAL;
        byte* p = Buffer(maskVa, 8, PagePerms.Write);
        if (p == null) return -EFAULT;
        *(ulong*)p = 1;
        return 8;
    }

    // ---------------------------------------------------------------- signals (recorded, never delivered)

    const int SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
    const ulong SIG_IGN = 1;

    long SigAction(int signal, ulong actVa, ulong oldVa, ulong setSize)
    {
        if (signal < 1 || signal > 64 || setSize != 8) return -EINVAL;
        if (actVa != 0 && (signal == UserProcess.SIGKILL || signal == 19)) return -EINVAL; // SIGKILL, SIGSTOP
        // struct sigaction on arm64: handler, flags, restorer, mask (8 bytes each).
        if (oldVa != 0)
        {
            byte* o = Buffer(oldVa, 32, PagePerms.Write);
            if (o == null) return -EFAULT;
            var old = new Span<byte>(o, 32);
            if (sigactions[signal] is { } saved) saved.CopyTo(old); else old.Clear();
        }
        if (actVa != 0)
        {
            byte* a = Buffer(actVa, 32, PagePerms.Read);
            if (a == null) return -EFAULT;
            sigactions[signal] = new ReadOnlySpan<byte>(a, 32).ToArray();
        }
        return 0;
    }

    bool SignalIgnored(int signal) => sigactions[signal] is { } a && BitConverter.ToUInt64(a, 0) == SIG_IGN;

    long SigProcMask(int how, ulong setVa, ulong oldVa, ulong setSize)
    {
        if (setSize != 8) return -EINVAL;
        ulong newMask = signalMask;
        if (setVa != 0 && how is not (SIG_BLOCK or SIG_UNBLOCK or SIG_SETMASK)) return -EINVAL;
        if (setVa != 0)
        {
            byte* s = Buffer(setVa, 8, PagePerms.Read);
            if (s == null) return -EFAULT;
            ulong set = *(ulong*)s;
            newMask = how switch
            {
                SIG_BLOCK => signalMask | set,
                SIG_UNBLOCK => signalMask & ~set,
                _ => set,
            };
        }
        if (oldVa != 0)
        {
            byte* o = Buffer(oldVa, 8, PagePerms.Write);
            if (o == null) return -EFAULT;
            *(ulong*)o = signalMask;
        }
        // SIGKILL and SIGSTOP cannot be blocked.
        signalMask = newMask & ~((1UL << (UserProcess.SIGKILL - 1)) | (1UL << (19 - 1)));
        return 0;
    }

    long SigAltStack(ulong oldVa)
    {
        if (oldVa != 0)
        {
            byte* o = Buffer(oldVa, 24, PagePerms.Write);
            if (o == null) return -EFAULT;
            new Span<byte>(o, 24).Clear();
            *(int*)(o + 8) = 2; // SS_DISABLE
        }
        return 0;
    }

    /// <summary>kill/tkill/tgkill aimed at this process: the default action of the signal (abort() ends here).</summary>
    long SendSignal(int pid, int signal)
    {
        if (signal < 0 || signal > 64) return -EINVAL;
        if (pid != process.Pid && pid != 0 && pid != -1) return -ESRCH;
        if (signal == 0) return 0;
        // Signals whose default action is to ignore: SIGCHLD, SIGCONT, SIGURG, SIGWINCH.
        if (signal is 17 or 18 or 23 or 28 || SignalIgnored(signal)) return 0;
        process.Kill(signal, "(sent by the program)");
        return 0;
    }

    // ---------------------------------------------------------------- system information

    byte[] threadName = new byte[16];

    /// <summary>prctl: only the thread name (PR_SET_NAME 15 / PR_GET_NAME 16), which libc and busybox use.</summary>
    long Prctl(int option, ulong arg)
    {
        if (option == 15)
        {
            byte[]? name = CString(arg, 4096);
            if (name == null) return -EFAULT;
            threadName = new byte[16];
            name.AsSpan(0, Math.Min(15, name.Length - 1)).CopyTo(threadName);
            return 0;
        }
        if (option == 16)
        {
            if (threadName[0] == 0)
            {
                string b = Path.GetFileName(process.ProgramPath);
                Encoding.UTF8.GetBytes(b.Length > 15 ? b[..15] : b).CopyTo(threadName, 0);
            }
            byte* p = Buffer(arg, 16, PagePerms.Write);
            if (p == null) return -EFAULT;
            threadName.CopyTo(new Span<byte>(p, 16));
            return 0;
        }
        return -EINVAL;
    }

    long Uname(ulong bufVa)
    {
        byte* p = Buffer(bufVa, 390, PagePerms.Write);
        if (p == null) return -EFAULT;
        if (Libc.uname(p) < 0) return -Libc.Errno;
        // struct utsname: six 65-byte fields; the fifth is the machine.
        var machine = new Span<byte>(p + 4 * 65, 65);
        machine.Clear();
        Encoding.ASCII.GetBytes("aarch64").CopyTo(machine);
        return 0;
    }

    long ThreeIds(ulong aVa, ulong bVa, ulong cVa, uint a, uint b, uint c)
    {
        uint* pa = (uint*)Buffer(aVa, 4, PagePerms.Write), pb = (uint*)Buffer(bVa, 4, PagePerms.Write), pc = (uint*)Buffer(cVa, 4, PagePerms.Write);
        if (pa == null || pb == null || pc == null) return -EFAULT;
        *pa = a; *pb = b; *pc = c;
        return 0;
    }

    long GetGroups(int size, ulong listVa)
    {
        if (size < 0) return -EINVAL;
        if (size == 0) return HostResult(Libc.getgroups(0, null));
        uint* p = (uint*)Buffer(listVa, (ulong)size * 4, PagePerms.Write);
        if (p == null) return -EFAULT;
        return HostResult(Libc.getgroups(size, p)); // gid_t is 32 bits on both
    }

    long GetRlimit(int resource, ulong limVa)
    {
        byte* p = Buffer(limVa, 16, PagePerms.Write);
        if (p == null) return -EFAULT;
        return HostResult(Libc.getrlimit(resource, p));
    }

    /// <summary>prlimit64 on this process: reports the host's limits; new limits are accepted and not applied
    /// (they would limit the emulator, not the program).</summary>
    long Prlimit64(int pid, int resource, ulong newVa, ulong oldVa)
    {
        if (pid != 0 && pid != process.Pid) return -ESRCH;
        if (resource < 0 || resource > 15) return -EINVAL;
        if (newVa != 0 && Buffer(newVa, 16, PagePerms.Read) == null) return -EFAULT;
        if (oldVa == 0) return 0;
        return GetRlimit(resource, oldVa);
    }

    long GetRandom(ulong bufVa, ulong length, uint flags)
    {
        byte* p = Buffer(bufVa, length, PagePerms.Write);
        if (p == null) return -EFAULT;
        return HostResult(Libc.getrandom(p, (nuint)length, flags));
    }
}
