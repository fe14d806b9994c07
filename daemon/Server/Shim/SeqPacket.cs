using Kvmfs.Daemon.Native;

namespace Kvmfs.Daemon.Shim;

/// <summary>
/// Frame I/O on a SOCK_SEQPACKET Unix socket: one frame per packet, at most one fd beside it.
/// Also used by tests to speak the wire format as a shim would.
/// </summary>
public static unsafe class SeqPacket
{
    /// <summary>Sends one frame, with <paramref name="fd"/> as SCM_RIGHTS when it is not -1. Returns 0 or -errno.</summary>
    public static int Send(int socket, ReadOnlySpan<byte> frame, int fd = -1)
    {
        byte* control = stackalloc byte[64];
        fixed (byte* p = frame)
        {
            var iov = new Libc.IoVec { Base = p, Length = (nuint)frame.Length };
            var msg = new Libc.MsgHdr { Iov = &iov, IovLength = 1 };
            if (fd >= 0)
            {
                int space = Libc.CMsgSpace(sizeof(int));
                new Span<byte>(control, space).Clear();
                var c = (Libc.CMsgHdr*)control;
                c->Length = (nuint)Libc.CMsgLen(sizeof(int));
                c->Level = Libc.SOL_SOCKET;
                c->Type = Libc.SCM_RIGHTS;
                *(int*)(control + Libc.CMsgHeaderSize) = fd;
                msg.Control = control;
                msg.ControlLength = (nuint)space;
            }
            for (;;)
            {
                nint n = Libc.sendmsg(socket, &msg, Libc.MSG_NOSIGNAL);
                if (n >= 0) return n == frame.Length ? 0 : -Libc.EIO;
                int e = Libc.Errno;
                if (e != Libc.EINTR) return -e;
            }
        }
    }

    /// <summary>
    /// Receives one frame into <paramref name="buffer"/>. Returns its length (0 at end of stream)
    /// or -errno; <paramref name="fd"/> gets the first fd that came with it (the caller owns it; any
    /// further ones are closed). <paramref name="truncated"/>: the frame was larger than the buffer.
    /// </summary>
    public static int Receive(int socket, Span<byte> buffer, out int fd, out bool truncated)
    {
        fd = -1;
        truncated = false;
        int controlSize = Libc.CMsgSpace(8 * sizeof(int));
        byte* control = stackalloc byte[controlSize];
        fixed (byte* p = buffer)
        {
            var iov = new Libc.IoVec { Base = p, Length = (nuint)buffer.Length };
            var msg = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)controlSize };
            nint n;
            for (;;)
            {
                n = Libc.recvmsg(socket, &msg, Libc.MSG_CMSG_CLOEXEC);
                if (n >= 0) break;
                int e = Libc.Errno;
                if (e != Libc.EINTR) return -e;
                msg.ControlLength = (nuint)controlSize;
            }
            byte* c = control;
            byte* end = control + (int)msg.ControlLength;
            while (c + Libc.CMsgHeaderSize <= end)
            {
                var h = (Libc.CMsgHdr*)c;
                if ((int)h->Length < Libc.CMsgHeaderSize) break;
                if (h->Level == Libc.SOL_SOCKET && h->Type == Libc.SCM_RIGHTS)
                {
                    int count = ((int)h->Length - Libc.CMsgHeaderSize) / sizeof(int);
                    for (int i = 0; i < count; i++)
                    {
                        int f = ((int*)(c + Libc.CMsgHeaderSize))[i];
                        if (fd < 0) fd = f; else Libc.close(f);
                    }
                }
                c += Libc.Align((int)h->Length);
            }
            truncated = (msg.Flags & Libc.MSG_TRUNC) != 0;
            return (int)n;
        }
    }

    /// <summary>Connects to a SOCK_SEQPACKET socket at <paramref name="path"/>. Returns the fd or -errno.</summary>
    public static int Connect(string path)
    {
        int s = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0);
        if (s < 0) return -Libc.Errno;
        var a = Libc.Address(path, out uint len);
        if (Libc.connect(s, &a, len) < 0)
        {
            int e = Libc.Errno;
            Libc.close(s);
            return -e;
        }
        return s;
    }

    public static void Close(int fd)
    {
        if (fd >= 0) Libc.close(fd);
    }
}
