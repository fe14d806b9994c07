using System.Collections.Concurrent;
using System.Reflection;

namespace Kvmfs.Protocol.Uapi;

/// <summary>
/// Value-to-name lookups over the constant classes, built once by reflection so the names
/// can never disagree with the constants. For traces and logs, not for hot paths.
/// </summary>
public static class UapiNames
{
    // Keyed by the filter delegate too: static lambdas are cached by the compiler, so one entry each.
    private static readonly ConcurrentDictionary<(Type, string?, Func<string, bool>?), Dictionary<ulong, string>> Cache = new();

    /// <summary>The first declared constant of <paramref name="owner"/> whose name starts with
    /// <paramref name="prefix"/> and whose value is <paramref name="value"/>.</summary>
    public static string? Lookup(Type owner, ulong value, string? prefix = null, Func<string, bool>? filter = null)
    {
        var map = Cache.GetOrAdd((owner, prefix, filter), static key => Build(key.Item1, key.Item2, key.Item3));
        return map.TryGetValue(value, out var name) ? name : null;
    }

    /// <summary>Every public constant of <paramref name="owner"/> as (name, value widened to 64 bits, sign-extended when signed).</summary>
    public static IEnumerable<(string Name, ulong Value, FieldInfo Field)> Constants(Type owner)
    {
        foreach (var f in owner.GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (!f.IsLiteral) continue;
            object? v = f.GetRawConstantValue();
            ulong value = v switch
            {
                byte b => b,
                sbyte sb => (ulong)(long)sb,
                ushort us => us,
                short s => (ulong)(long)s,
                uint u => u,
                int i => (ulong)(long)i,
                ulong ul => ul,
                long l => (ulong)l,
                _ => throw new InvalidOperationException($"{owner.Name}.{f.Name}: not an integer constant"),
            };
            yield return (f.Name, value, f);
        }
    }

    private static Dictionary<ulong, string> Build(Type owner, string? prefix, Func<string, bool>? filter)
    {
        var map = new Dictionary<ulong, string>();
        foreach (var (name, value, _) in Constants(owner))
        {
            if (prefix is not null && !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            if (filter is not null && !filter(name)) continue;
            map.TryAdd(value, name);
        }
        return map;
    }
}
