using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Protocol.Tests;

/// <summary>
/// What the C# side declares, found by reflection so the layout test covers anything added
/// later: every [CStruct] type with all its fields (nested ones by C member path), every
/// ioctl in the table, every constant of every [UapiConstants] class.
/// </summary>
internal static class UapiReflection
{
    public static Assembly ProtocolAssembly => typeof(KvmRun).Assembly;

    public sealed record StructField(string Path, int Offset, int Size);

    public sealed record StructShape(Type Type, string CName, int Size, IReadOnlyList<StructField> Fields, string? SkipReason);

    public static IReadOnlyList<StructShape> Structs() =>
        ProtocolAssembly.GetTypes()
            .Where(t => t.IsValueType && t.GetCustomAttribute<CStructAttribute>() is not null)
            .OrderBy(t => t.GetCustomAttribute<CStructAttribute>()!.Name, StringComparer.Ordinal)
            .Select(t => new StructShape(t, t.GetCustomAttribute<CStructAttribute>()!.Name, SizeOf(t), Fields(t),
                t.GetCustomAttribute<NotInUapi61Attribute>()?.Reason))
            .ToList();

    public sealed record Constant(string Class, string Name, ulong Value, string? SkipReason);

    public static IReadOnlyList<Constant> Constants() =>
        ProtocolAssembly.GetTypes()
            .Where(t => t.GetCustomAttribute<UapiConstantsAttribute>() is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .SelectMany(t => UapiNames.Constants(t).Select(c =>
                new Constant(t.Name, c.Name, c.Value, c.Field.GetCustomAttribute<NotInUapi61Attribute>()?.Reason)))
            .ToList();

    /// <summary>Why an ioctl cannot be compared (its KvmIoctls constant carries [NotInUapi61]), or null.</summary>
    public static string? IoctlSkipReason(IoctlInfo info) =>
        typeof(KvmIoctls).GetField(info.Name)?.GetCustomAttribute<NotInUapi61Attribute>()?.Reason;

    /// <summary>The in-memory size of a value type (Unsafe.SizeOf), checked equal to the marshalled size.</summary>
    public static int SizeOf(Type t)
    {
        int size = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(t).Invoke(null, null)!;
        int marshalled = Marshal.SizeOf(t);
        if (size != marshalled)
            throw new InvalidOperationException($"{t.Name}: Unsafe.SizeOf {size} != Marshal.SizeOf {marshalled}: not blittable");
        return size;
    }

    private static List<StructField> Fields(Type t)
    {
        var list = new List<StructField>();
        Collect(t, "", 0, list);
        return list;
    }

    private static void Collect(Type t, string prefix, int baseOffset, List<StructField> into)
    {
        foreach (var f in t.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            int offset = baseOffset + (int)Marshal.OffsetOf(t, f.Name);
            string path = prefix + f.Name;
            var fixedBuffer = f.GetCustomAttribute<FixedBufferAttribute>();
            if (fixedBuffer is not null)
            {
                into.Add(new StructField(path, offset, fixedBuffer.Length * SizeOf(fixedBuffer.ElementType)));
                continue;
            }
            into.Add(new StructField(path, offset, SizeOf(f.FieldType)));
            if (!f.FieldType.IsPrimitive && !f.FieldType.IsEnum)
                Collect(f.FieldType, path + ".", offset, into);
        }
    }
}
