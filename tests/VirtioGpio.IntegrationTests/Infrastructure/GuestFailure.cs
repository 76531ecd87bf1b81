// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>Runs test code and, when it fails, re-throws with the serial logs, control events and daemon log attached.</summary>
public static class GuestFailure
{
    public static async Task WithContextAsync(DaemonProcess daemon, ControlClient control, Func<IReadOnlyList<GuestRunResult>> runs, Func<Task> body)
    {
        try
        {
            await body().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException || !e.Message.Contains("--- serial log ---", StringComparison.Ordinal))
        {
            var text = new System.Text.StringBuilder(e.GetType().Name + ": " + e.Message);
            foreach (GuestRunResult r in runs())
            {
                text.Append("\n--- serial log ---\n").Append(r.SerialLog);
            }

            text.Append("\n--- control events ---\n").Append(control.DescribeEvents());
            text.Append("\n--- daemon log (tail) ---\n").Append(Tail(daemon.Log, 80));
            throw new Xunit.Sdk.XunitException(text.ToString(), e);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException(
                e.Message + "\n--- control events ---\n" + control.DescribeEvents() + "\n--- daemon log (tail) ---\n" + Tail(daemon.Log, 80), e);
        }
    }

    private static string Tail(string text, int lines)
    {
        string[] all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}
