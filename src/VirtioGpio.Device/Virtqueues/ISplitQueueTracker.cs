// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Virtqueues;

/// <summary>
/// Observes which heads a <see cref="SplitQueue"/> takes and completes, so a transport can keep
/// vhost-user inflight I/O tracking (INFLIGHT_SHMFD) in shared memory. Called on the queue's
/// worker, inside the device's serialisation; implementations must not block or throw.
/// </summary>
public interface ISplitQueueTracker
{
    /// <summary>A head was taken from the avail ring (before the device looks at the chain).</summary>
    /// <param name="headIndex">The head descriptor index.</param>
    void OnPopped(ushort headIndex);

    /// <summary>A used element for <paramref name="headIndex"/> was written, just before <c>used.idx</c> is published.</summary>
    /// <param name="headIndex">The completed head.</param>
    void OnCompleting(ushort headIndex);

    /// <summary><c>used.idx</c> was published with the given value.</summary>
    /// <param name="usedIndex">The new used index.</param>
    void OnUsedIndexPublished(ushort usedIndex);
}
