namespace Kvmfs.Emulator.User;

/// <summary>
/// The guest's file descriptors, each one a host descriptor owned by the table. Guest numbers are
/// handed out lowest-free, as Linux does, so the guest sees the same numbers it would on a real
/// kernel whatever the host process has open.
/// </summary>
public sealed class FdTable : IDisposable
{
    readonly List<int> host = new(); // guest fd -> host fd, -1 = free
    readonly List<bool> cloexec = new();

    public const int Limit = 1024;

    public int Get(int guestFd) => guestFd >= 0 && guestFd < host.Count ? host[guestFd] : -1;

    /// <summary>Adds a host fd at the lowest free guest number at or above <paramref name="from"/>; -1 if full.</summary>
    public int Add(int hostFd, bool closeOnExec = false, int from = 0)
    {
        for (int i = from; i < Limit; i++)
        {
            if (i >= host.Count) { host.Add(-1); cloexec.Add(false); }
            if (host[i] < 0) { host[i] = hostFd; cloexec[i] = closeOnExec; return i; }
        }
        return -1;
    }

    /// <summary>Puts a host fd at a given guest number, closing what was there (dup3).</summary>
    public void Set(int guestFd, int hostFd, bool closeOnExec)
    {
        while (host.Count <= guestFd) { host.Add(-1); cloexec.Add(false); }
        if (host[guestFd] >= 0) Libc.close(host[guestFd]);
        host[guestFd] = hostFd;
        cloexec[guestFd] = closeOnExec;
    }

    public bool GetCloseOnExec(int guestFd) => Get(guestFd) >= 0 && cloexec[guestFd];
    public void SetCloseOnExec(int guestFd, bool value) { if (Get(guestFd) >= 0) cloexec[guestFd] = value; }

    /// <summary>Closes a guest fd; false (EBADF) if it was not open.</summary>
    public bool Close(int guestFd)
    {
        int h = Get(guestFd);
        if (h < 0) return false;
        host[guestFd] = -1;
        Libc.close(h);
        return true;
    }

    public void Dispose()
    {
        for (int i = 0; i < host.Count; i++)
            if (host[i] >= 0) { Libc.close(host[i]); host[i] = -1; }
    }
}
