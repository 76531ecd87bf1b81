// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Testing;

/// <summary>One notification a device sent to a <see cref="RecordingInterruptSink"/>.</summary>
/// <param name="Sequence">0-based position among all notifications of the sink.</param>
/// <param name="QueueIndex">The queue of a used-buffer notification, or -1 for a configuration change.</param>
public readonly record struct InterruptRecord(long Sequence, int QueueIndex)
{
    /// <summary>Whether this is a configuration-change notification.</summary>
    public bool IsConfigChange => QueueIndex < 0;
}
