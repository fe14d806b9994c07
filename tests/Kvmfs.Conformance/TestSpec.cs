namespace Kvmfs.Conformance;

/// <summary>One selftest to run: its path under the build's bin/ folder, its time limit, its arguments.</summary>
public sealed record TestSpec(string Name, double TimeoutSeconds, IReadOnlyList<string> Args)
{
    /// <summary>The kvm selftests' own limit (tools/testing/selftests/kvm/settings: timeout=120).</summary>
    public const double DefaultTimeoutSeconds = 120;

    /// <summary>Reads a list of test names, one a line; '#' starts a comment.</summary>
    public static List<string> ReadNames(string path) =>
        File.Exists(path)
            ? File.ReadAllLines(path).Select(StripComment).Where(l => l.Length > 0)
                  .Select(l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0]).ToList()
            : [];

    /// <summary>
    /// Per-test settings (tests/conformance/settings.txt): "test timeout-seconds [args...]".
    /// A test without a line runs with no arguments and the default limit.
    /// </summary>
    public static Dictionary<string, (double Timeout, string[] Args)> ReadSettings(string? path)
    {
        var settings = new Dictionary<string, (double, string[])>(StringComparer.Ordinal);
        if (path is null || !File.Exists(path))
            return settings;
        var lineNo = 0;
        foreach (var raw in File.ReadAllLines(path))
        {
            lineNo++;
            var line = StripComment(raw);
            if (line.Length == 0)
                continue;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !double.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var timeout) || timeout <= 0)
                throw new FormatException($"{path}:{lineNo}: expected \"test timeout-seconds [args...]\"");
            settings[parts[0]] = (timeout, parts[2..]);
        }
        return settings;
    }

    public static List<TestSpec> Build(IEnumerable<string> names, Dictionary<string, (double Timeout, string[] Args)> settings, double? timeoutOverride)
    {
        var specs = new List<TestSpec>();
        foreach (var name in names)
        {
            var (timeout, args) = settings.TryGetValue(name, out var s) ? s : (DefaultTimeoutSeconds, Array.Empty<string>());
            specs.Add(new TestSpec(name, timeoutOverride ?? timeout, args));
        }
        return specs;
    }

    static string StripComment(string line)
    {
        var hash = line.IndexOf('#');
        return (hash >= 0 ? line[..hash] : line).Trim();
    }
}
