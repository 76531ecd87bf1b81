// SPDX-License-Identifier: MIT
using System.Globalization;

namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>
/// Locates the guest artifacts made by <c>scripts/guest/prepare.sh</c> (kernel, initramfs, QEMU) and the daemon.
/// The guest directory is <c>$VIRTIOGPIO_GUEST_DIR</c>, or <c>.guest</c> at the repository root.
/// </summary>
public sealed class GuestEnvironment
{
    /// <summary>Environment variable that turns missing guest artifacts into a failure instead of a skip (CI sets it).</summary>
    public const string RequireVariable = "VIRTIOGPIO_REQUIRE_GUEST";

    private static readonly Lazy<GuestEnvironment> LazyCurrent = new(Probe);

    private GuestEnvironment() { }

    /// <summary>The environment of this test run (probed once).</summary>
    public static GuestEnvironment Current => LazyCurrent.Value;

    /// <summary>True when <c>VIRTIOGPIO_REQUIRE_GUEST=1</c>.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Null when everything is there; otherwise why the real-guest tests cannot run.</summary>
    public string? MissingReason { get; private set; }

    public string GuestDirectory { get; private set; } = "";
    public string Qemu { get; private set; } = "";
    public string QemuVersion { get; private set; } = "";
    public string KernelAbi { get; private set; } = "";
    public string Kernel { get; private set; } = "";
    public string Initrd { get; private set; } = "";

    /// <summary>Directory holding the test assembly (and the daemon, copied by the project reference).</summary>
    public static string BaseDirectory => AppContext.BaseDirectory;

    /// <summary>Per-boot host-side limit (env <c>VIRTIOGPIO_GUEST_BOOT_TIMEOUT</c>, seconds; default 240).</summary>
    public static TimeSpan BootTimeout => TimeSpan.FromSeconds(ReadSeconds("VIRTIOGPIO_GUEST_BOOT_TIMEOUT", 240));

    /// <summary>Limit for one host-side wait inside a boot (a control-socket event, a line state; default 60 s).</summary>
    public static TimeSpan StepTimeout => TimeSpan.FromSeconds(ReadSeconds("VIRTIOGPIO_GUEST_STEP_TIMEOUT", 60));

    private static int ReadSeconds(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s > 0 ? s : fallback;

    /// <summary>The repository root: the first parent of the test assembly holding <c>scripts/guest/prepare.sh</c>.</summary>
    public static string? FindRepositoryRoot()
    {
        // 1. The repository the tests were built from (recorded at build time), 2. above the test assembly,
        // 3. above the working directory.
        string? built = typeof(GuestEnvironment).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        foreach (string? start in new[] { built, BaseDirectory, Environment.CurrentDirectory })
        {
            for (DirectoryInfo? d = start is null ? null : new(start); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "scripts", "guest", "prepare.sh")))
                {
                    return d.FullName;
                }
            }
        }

        return null;
    }

    private static GuestEnvironment Probe()
    {
        var env = new GuestEnvironment();
        string? dir = Environment.GetEnvironmentVariable("VIRTIOGPIO_GUEST_DIR");
        if (string.IsNullOrEmpty(dir))
        {
            string? root = FindRepositoryRoot();
            if (root is null)
            {
                env.MissingReason = "cannot find the repository root (scripts/guest/prepare.sh) above " + BaseDirectory + "; set VIRTIOGPIO_GUEST_DIR";
                return env;
            }

            dir = Path.Combine(root, ".guest");
        }

        env.GuestDirectory = dir;
        string envFile = Path.Combine(dir, "guest.env");
        if (!File.Exists(envFile))
        {
            env.MissingReason = $"no guest artifacts ({envFile} is missing): run scripts/guest/prepare.sh";
            return env;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in File.ReadAllLines(envFile))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                values[line[..eq]] = line[(eq + 1)..];
            }
        }

        env.Qemu = values.GetValueOrDefault("QEMU", "");
        env.QemuVersion = values.GetValueOrDefault("QEMU_VERSION", "");
        env.KernelAbi = values.GetValueOrDefault("ABI", "");
        env.Kernel = values.GetValueOrDefault("KERNEL", "");
        env.Initrd = values.GetValueOrDefault("INITRD", "");
        foreach ((string what, string path) in new[] { ("QEMU", env.Qemu), ("kernel", env.Kernel), ("initramfs", env.Initrd) })
        {
            if (path.Length == 0 || !File.Exists(path))
            {
                env.MissingReason = $"{what} '{path}' named in {envFile} is missing: re-run scripts/guest/prepare.sh";
                return env;
            }
        }

        string major = env.QemuVersion.Split('.')[0];
        if (!int.TryParse(major, NumberStyles.None, CultureInfo.InvariantCulture, out int m) || m < 10)
        {
            env.MissingReason = $"QEMU {env.QemuVersion} is too old: vhost-user-gpio offers VIRTIO_GPIO_F_IRQ only from QEMU 10 (scripts/guest/prepare.sh installs it)";
            return env;
        }

        if (!File.Exists(Path.Combine(BaseDirectory, "virtio-gpio.dll")))
        {
            env.MissingReason = "the daemon (virtio-gpio.dll) is not next to the test assembly";
        }

        return env;
    }
}
