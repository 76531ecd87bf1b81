// SPDX-License-Identifier: MIT
using System.Diagnostics;
using VirtioGpio.IntegrationTests.Differential;
using VirtioGpio.IntegrationTests.Infrastructure;

namespace VirtioGpio.IntegrationTests;

/// <summary>
/// The differential machinery without QEMU (runs everywhere): the scripts parse, replay against our transports, turn
/// into valid guest shell, and every allow-list entry names a real operation with the value our transport reads.
/// </summary>
public sealed class DifferentialScriptTests
{
    public static TheoryData<GuestTransport> Transports => [GuestTransport.Mmio, GuestTransport.Pci];

    [Theory]
    [MemberData(nameof(Transports))]
    public void Every_script_replays_against_our_transport_and_yields_a_value_per_read(GuestTransport transport)
    {
        IReadOnlyList<RegisterScript> scripts = RegisterScript.LoadAll(transport);
        Assert.True(scripts.Count >= 5, $"only {scripts.Count} {transport} scripts");
        using TransportReplayer ours = QemuMatchingOptions.CreateReplayer(transport);
        foreach (RegisterScript script in scripts)
        {
            ours.Run(script);
            foreach (ScriptOp op in script.Ops.Where(o => o.ProducesValues))
            {
                string key = op.Key(script.Name);
                Assert.True(ours.Results.Keys.Any(k => k == key || k.StartsWith(key + ".", StringComparison.Ordinal)),
                    $"{key} ({op.Text}) produced no value");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public void Every_allow_list_entry_names_a_labelled_read_and_pins_our_value(GuestTransport transport)
    {
        IReadOnlyList<RegisterScript> scripts = RegisterScript.LoadAll(transport);
        using TransportReplayer ours = QemuMatchingOptions.CreateReplayer(transport);
        foreach (RegisterScript script in scripts)
        {
            ours.Run(script);
        }

        foreach (QemuDifference d in KnownQemuDifferences.For(transport))
        {
            string[] parts = d.Key.Split(':');
            Assert.Equal(2, parts.Length);
            RegisterScript script = Assert.Single(scripts, s => s.Name == parts[0]);
            string label = parts[1].Split('.')[0];
            ScriptOp op = Assert.Single(script.Ops, o => o.Label == label);
            Assert.True(op.ProducesValues, d.Key);
            string key = op.Key(script.Name) + parts[1][label.Length..];
            string ourValue = ours.Results.TryGetValue(key, out string? v) ? DifferentialComparison.Normalize(v) : "(missing)";
            Assert.True(DifferentialComparison.Normalize(d.Ours) == ourValue, $"{d.Key}: allow-listed ours {d.Ours}, our transport reads {ourValue}");
            Assert.NotEqual(DifferentialComparison.Normalize(d.Qemu), DifferentialComparison.Normalize(d.Ours));
            Assert.False(string.IsNullOrWhiteSpace(d.Reason));
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public void The_guest_script_has_one_line_per_operation_and_is_valid_shell(GuestTransport transport)
    {
        IReadOnlyList<RegisterScript> scripts = RegisterScript.LoadAll(transport);
        string text = GuestShellWriter.Write(transport, scripts);
        foreach (RegisterScript script in scripts)
        {
            foreach (ScriptOp op in script.Ops.Where(o => o.ProducesValues))
            {
                Assert.Contains($"'{op.Key(script.Name)}'", text, StringComparison.Ordinal);
            }
        }

        // The guest runs busybox ash; check the syntax with a host shell when there is one.
        string? shell = new[] { "/bin/busybox", "/usr/bin/busybox", "/bin/sh" }.FirstOrDefault(File.Exists);
        if (shell is null)
        {
            return;
        }

        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, text);
            var psi = new ProcessStartInfo(shell) { RedirectStandardError = true, UseShellExecute = false };
            if (shell.EndsWith("busybox", StringComparison.Ordinal))
            {
                psi.ArgumentList.Add("sh");
            }

            psi.ArgumentList.Add("-n");
            psi.ArgumentList.Add(file);
            using Process p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, "shell syntax check failed: " + err);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("mmio-x", "r32 0x0 0x1", "too many operands")]
    [InlineData("mmio-x", "q32 0x0", "unknown operation")]
    [InlineData("mmio-x", "r24 0x0", "bad width")]
    [InlineData("mmio-x", "r32 common 0x0", "not valid in a MMIO script")]
    [InlineData("pci-x", "r32 0x0", "name their region")]
    [InlineData("mmio-x", "r32", "missing or bad offset")]
    [InlineData("pci-x", "r64 cfg 0x0", "8, 16 or 32 bits")]
    [InlineData("pci-x", "w32 common 0x0 off:nowhere", "missing or bad value")]
    [InlineData("mmio-x", "a: r32 0x0\na: r32 0x4", "used twice")]
    [InlineData("mmio-x", "caps", "only in PCI scripts")]
    [InlineData("other", "r32 0x0", "must start with")]
    public void Malformed_scripts_are_rejected_with_the_line(string name, string text, string message)
    {
        FormatException e = Assert.Throws<FormatException>(() => RegisterScript.Parse(name, text));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scripts_parse_labels_regions_and_symbolic_values()
    {
        RegisterScript s = RegisterScript.Parse("pci-x", "# comment\nst: r8 common 0x14  # status\n  w32 common 0x20 ram+0x400\nw8 pcicfgcap 0x4 bar:common\nw32 pcicfgcap 0x8 off:common+0x12\nsettle 100\ncaps\nbarsize common\n");
        Assert.Equal(7, s.Ops.Count);
        Assert.Equal("st", s.Ops[0].Label);
        Assert.Equal(("common", 0x14UL, 8), (s.Ops[0].Region, s.Ops[0].Offset, s.Ops[0].Width));
        Assert.Equal(new ScriptValue(ScriptValueKind.Ram, 0x400, null), s.Ops[1].Value);
        Assert.Equal(new ScriptValue(ScriptValueKind.BarOf, 0, "common"), s.Ops[2].Value);
        Assert.Equal(new ScriptValue(ScriptValueKind.OffsetOf, 0x12, "common"), s.Ops[3].Value);
        Assert.Equal(ScriptOpKind.Settle, s.Ops[4].Kind);
        Assert.False(s.Ops[4].ProducesValues);
        Assert.Equal(ScriptOpKind.Capabilities, s.Ops[5].Kind);
        Assert.Equal(ScriptOpKind.BarSize, s.Ops[6].Kind);
        Assert.Equal("pci-x#2", s.Ops[1].Key("pci-x"));
    }

    [Theory]
    [InlineData("0x00000002", "0x2")]
    [InlineData("0x 0010", "0x10")]
    [InlineData("0X74726976", "0x74726976")]
    [InlineData("4", "0x4")]
    [InlineData("msix virtio1", "msix virtio1")]
    [InlineData(" devmem: error ", "devmem: error")]
    public void Values_are_normalised_before_they_are_compared(string raw, string normalised) =>
        Assert.Equal(normalised, DifferentialComparison.Normalize(raw));

    [Fact]
    public void A_new_difference_a_changed_one_and_a_stale_entry_all_fail()
    {
        RegisterScript s = RegisterScript.Parse("mmio-x", "a: r32 0x0\nb: r32 0x4\nc: r32 0x8\nr32 0xc\n");
        var ours = new Dictionary<string, string> { ["mmio-x#1"] = "0x1", ["mmio-x#2"] = "0x2", ["mmio-x#3"] = "0x3", ["mmio-x#4"] = "0x4" };
        var qemu = new Dictionary<string, string> { ["mmio-x#1"] = "0x00000001", ["mmio-x#2"] = "0x5", ["mmio-x#3"] = "0x3", ["mmio-x#4"] = "0x9" };
        QemuDifference[] allowed =
        [
            new("mmio-x:b", "0x5", "0x2", "known"),   // matches: accepted
            new("mmio-x:c", "0x7", "0x3", "stale"),   // both read 0x3 now
            new("mmio-x:zz", "0x0", "0x1", "gone"),   // names nothing
        ];
        DifferentialComparison c = DifferentialComparison.Compare([s], qemu, ours, allowed);
        Assert.Equal(4, c.Compared);
        Assert.Equal(1, c.Equal);
        Assert.Equal(1, c.KnownDifferences);
        Assert.Equal(3, c.Failures.Count);
        Assert.Contains(c.Failures, f => f.Contains("mmio-x#4", StringComparison.Ordinal) && f.Contains("new difference", StringComparison.Ordinal));
        Assert.Contains(c.Failures, f => f.Contains("mmio-x#3", StringComparison.Ordinal) && f.Contains("remove the entry", StringComparison.Ordinal));
        Assert.Contains(c.Failures, f => f.Contains("mmio-x:zz", StringComparison.Ordinal));
    }

    [Fact]
    public void A_value_the_guest_did_not_report_fails()
    {
        RegisterScript s = RegisterScript.Parse("mmio-x", "r32 0x0\n");
        DifferentialComparison c = DifferentialComparison.Compare([s], new Dictionary<string, string>(),
            new Dictionary<string, string> { ["mmio-x#1"] = "0x1" }, []);
        Assert.Single(c.Failures);
        Assert.Contains("did not report", c.Failures[0], StringComparison.Ordinal);
    }
}
