// SPDX-License-Identifier: MIT
using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Device.Tests.Gpio.Backends;

public class VcdTraceWriterTests
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A minimal VCD reader: header declarations and the (time, id, value) changes.</summary>
    private sealed class ParsedVcd
    {
        public string Timescale = string.Empty;
        public List<string> Scopes = new();
        public Dictionary<string, string> NameById = new();
        public Dictionary<string, char> Initial = new();
        public List<(long Time, string Name, char Value)> Changes = new();
        public bool EndDefinitions;

        public static ParsedVcd Parse(string text)
        {
            var vcd = new ParsedVcd();
            string[] tokens = text.Split(new[] { ' ', '\n', '\r', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            long time = -1;
            bool inDump = false;
            for (int i = 0; i < tokens.Length; i++)
            {
                string t = tokens[i];
                switch (t)
                {
                    case "$date":
                    case "$version":
                        while (tokens[++i] != "$end")
                        {
                        }

                        break;
                    case "$timescale":
                        vcd.Timescale = tokens[i + 1] + " " + tokens[i + 2];
                        Assert.Equal("$end", tokens[i + 3]);
                        i += 3;
                        break;
                    case "$scope":
                        vcd.Scopes.Add(tokens[i + 1] + " " + tokens[i + 2]);
                        i += 3;
                        break;
                    case "$var":
                        Assert.Equal("wire", tokens[i + 1]);
                        Assert.Equal("1", tokens[i + 2]);
                        vcd.NameById.Add(tokens[i + 3], tokens[i + 4]);
                        Assert.Equal("$end", tokens[i + 5]);
                        i += 5;
                        break;
                    case "$upscope":
                        i++;
                        break;
                    case "$enddefinitions":
                        vcd.EndDefinitions = true;
                        i++;
                        break;
                    case "$dumpvars":
                        inDump = true;
                        break;
                    case "$end":
                        inDump = false;
                        break;
                    default:
                        Assert.True(vcd.EndDefinitions, $"value change before $enddefinitions: {t}");
                        if (t[0] == '#')
                        {
                            long next = long.Parse(t.AsSpan(1), CultureInfo.InvariantCulture);
                            Assert.True(next >= time, "time went backwards");
                            time = next;
                        }
                        else
                        {
                            Assert.Contains(t[0], "01xz");
                            string name = vcd.NameById[t.Substring(1)];
                            if (inDump)
                            {
                                vcd.Initial[name] = t[0];
                            }
                            else
                            {
                                vcd.Changes.Add((time, name, t[0]));
                            }
                        }

                        break;
                }
            }

            return vcd;
        }
    }

    [Fact]
    public void RecordsGuestAndHostEdgesWithNamesAndNanosecondTimes()
    {
        var time = new FakeTimeProvider(Epoch);
        using var lines = new SimulatedGpioLineBackend(new GpioLineNames(new[] { "Red LED", "", "BUTTON" }), time);
        lines.SetInputLevel(2, LineValue.High); // before the trace: part of the initial values
        var text = new StringWriter();
        using (var vcd = VcdTraceWriter.Attach(lines, text, leaveOpen: true))
        {
            time.Advance(TimeSpan.FromMicroseconds(10));
            lines.SetDirection(0, GpioDirection.Output, LineValue.High); // guest edge on line 0
            time.Advance(TimeSpan.FromMicroseconds(5));
            lines.Pulse(2, LineValue.Low); // high → low → high: 2 edges
            lines.SetIrqType(1, GpioIrqType.EdgeBoth); // no edge, not in the dump
            lines.SetInputLevel(0, LineValue.Low); // stimulus on a guest output: not applied, not in the dump
            vcd.Flush();
        }

        var parsed = ParsedVcd.Parse(text.ToString());
        Assert.Equal("1 ns", parsed.Timescale);
        Assert.Equal(new[] { "module gpio" }, parsed.Scopes);
        Assert.Equal(new[] { "Red_LED", "line1", "BUTTON" }, parsed.NameById.Values);
        Assert.Equal(new Dictionary<string, char> { ["Red_LED"] = '0', ["line1"] = '0', ["BUTTON"] = '1' }, parsed.Initial);
        Assert.Equal(
            new[] { (10_000L, "Red_LED", '1'), (15_000L, "BUTTON", '0'), (15_000L, "BUTTON", '1') },
            parsed.Changes);
        // The time block is written once per distinct time.
        Assert.Equal(1, text.ToString().Split('\n').Count(l => l == "#15000"));
    }

    [Fact]
    public void DisposeStopsRecordingAndClosesTheWriterUnlessLeftOpen()
    {
        using var lines = new SimulatedGpioLineBackend(2);
        var text = new StringWriter();
        var vcd = VcdTraceWriter.Attach(lines, text);
        vcd.Dispose();
        string before = text.ToString();
        lines.SetInputLevel(0, LineValue.High);
        Assert.Equal(before, text.ToString());
        Assert.Throws<ObjectDisposedException>(() => text.Write('x'));
        vcd.Dispose(); // idempotent
    }

    [Fact]
    public void ManyLinesGetDistinctPrintableIdentifiers()
    {
        var writer = new VcdTraceWriter(new StringWriter(), Enumerable.Range(0, 300).Select(i => i == 7 ? "line3" : string.Empty).ToArray(), null, Epoch);
        Assert.Equal(300, writer.IdentifierCodes.Distinct().Count());
        Assert.All(writer.IdentifierCodes, id => Assert.All(id, c => Assert.InRange(c, '!', '~')));
        Assert.Equal(300, writer.ReferenceNames.Distinct().Count()); // "line3" named line collides with unnamed line 3
        Assert.Equal("line3_7", writer.ReferenceNames[7]);
    }

    [Fact]
    public void ConcurrentActivityProducesAWellFormedDumpWithEveryEdge()
    {
        var time = new FakeTimeProvider(Epoch);
        using var lines = new SimulatedGpioLineBackend(6, time);
        var text = new StringWriter();
        using var vcd = VcdTraceWriter.Attach(lines, text, leaveOpen: true);
        var threads = Enumerable.Range(0, 6).Select(t => new Thread(() =>
        {
            for (int i = 0; i < 500; i++)
            {
                if (t < 3)
                {
                    lines.Toggle(t);
                }
                else
                {
                    lines.SetDirection(t, GpioDirection.Output, i % 2 == 0);
                }

                if (t == 0 && i % 50 == 0)
                {
                    time.Advance(TimeSpan.FromMilliseconds(1));
                }
            }
        })).ToArray();
        foreach (var th in threads)
        {
            th.Start();
        }

        foreach (var th in threads)
        {
            Assert.True(th.Join(TimeSpan.FromSeconds(60)));
        }

        vcd.Flush();
        var parsed = ParsedVcd.Parse(text.ToString());
        for (int line = 0; line < 6; line++)
        {
            var values = parsed.Changes.Where(c => c.Name == "line" + line).Select(c => c.Value).ToList();
            Assert.Equal(500, values.Count);
            for (int i = 0; i < values.Count; i++)
            {
                Assert.Equal(i % 2 == 0 ? '1' : '0', values[i]);
            }
        }
    }

    [Fact]
    public void ManualRecordingSkipsRepeatsAndClampsTimes()
    {
        var text = new StringWriter();
        using var vcd = new VcdTraceWriter(text, new[] { "A" }, new[] { LineValue.High }, Epoch, leaveOpen: true);
        vcd.Record(0, LineValue.High, Epoch.AddTicks(10)); // same as initial: skipped
        vcd.Record(0, LineValue.Low, Epoch.AddTicks(20));
        vcd.Record(0, LineValue.High, Epoch.AddTicks(5)); // earlier: written at the last time
        vcd.Flush();
        var parsed = ParsedVcd.Parse(text.ToString());
        Assert.Equal(new[] { (2000L, "A", '0'), (2000L, "A", '1') }, parsed.Changes);
        Assert.Throws<ArgumentOutOfRangeException>(() => vcd.Record(1, LineValue.Low, Epoch));
    }
}
