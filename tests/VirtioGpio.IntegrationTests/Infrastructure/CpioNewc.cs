// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text;

namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>
/// Writes a minimal "newc" cpio archive (Linux Documentation/driver-api/early-userspace/buffer-format.rst):
/// the per-test script is appended to the base initramfs as such a second, uncompressed archive.
/// </summary>
public static class CpioNewc
{
    /// <summary>An archive with the given regular files (mode 0755, owner root) and the trailer.</summary>
    public static byte[] Build(IReadOnlyList<(string Name, byte[] Data)> files)
    {
        using var ms = new MemoryStream();
        int ino = 1;
        foreach ((string name, byte[] data) in files)
        {
            WriteEntry(ms, ino++, 0x81ED, name, data);
        }

        WriteEntry(ms, 0, 0, "TRAILER!!!", Array.Empty<byte>());
        return ms.ToArray();
    }

    private static void WriteEntry(MemoryStream ms, int ino, int mode, string name, byte[] data)
    {
        byte[] nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        var header = new StringBuilder("070701");
        foreach (long field in new long[] { ino, mode, 0, 0, 1, 0, data.Length, 0, 0, 0, 0, nameBytes.Length, 0 })
        {
            header.Append(field.ToString("X8", CultureInfo.InvariantCulture));
        }

        ms.Write(Encoding.ASCII.GetBytes(header.ToString()));
        ms.Write(nameBytes);
        Pad(ms);
        ms.Write(data);
        Pad(ms);
    }

    private static void Pad(MemoryStream ms)
    {
        while (ms.Length % 4 != 0)
        {
            ms.WriteByte(0);
        }
    }
}
