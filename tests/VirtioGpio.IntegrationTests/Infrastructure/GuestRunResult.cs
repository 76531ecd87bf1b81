// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>What one guest boot printed: the cleaned serial log and the parsed <c>VGPIO-*</c> markers.</summary>
public sealed class GuestRunResult
{
    public GuestRunResult(string serialLog, IReadOnlyDictionary<string, string> values, IReadOnlyList<string> info,
        int? endCode, int? qemuExitCode, TimeSpan elapsed)
    {
        SerialLog = serialLog;
        Values = values;
        Info = info;
        EndCode = endCode;
        QemuExitCode = qemuExitCode;
        Elapsed = elapsed;
    }

    /// <summary>The serial console, escape sequences and carriage returns removed.</summary>
    public string SerialLog { get; }

    /// <summary><c>VGPIO-KV key=value</c> lines (multi-line values are joined with '|').</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary><c>VGPIO-INFO</c> lines (gpioinfo output).</summary>
    public IReadOnlyList<string> Info { get; }

    /// <summary>The test script's exit code from <c>VGPIO-END rc=N</c>, or null if it never finished.</summary>
    public int? EndCode { get; }

    public int? QemuExitCode { get; }

    public TimeSpan Elapsed { get; }

    /// <summary>A value the guest reported, or a failure naming the key with the serial log.</summary>
    public string Value(string key) =>
        Values.TryGetValue(key, out string? v) ? v : throw new Xunit.Sdk.XunitException($"the guest did not report '{key}'\n--- serial log ---\n{SerialLog}");
}
