// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Differential;

/// <summary>
/// One known, explained difference between QEMU's transport and ours: the operation (<c>script:label</c>, plus
/// <c>.part</c> for multi-valued operations), the value each side reads, and why. Both values are pinned, so a change
/// on either side, or the difference disappearing, fails the test and the entry must be revisited.
/// </summary>
/// <param name="Key"><c>script:label[.part]</c>.</param>
/// <param name="Qemu">The value QEMU's transport gives.</param>
/// <param name="Ours">The value ours gives.</param>
/// <param name="Reason">Why they differ and why we keep ours (with the spec section), for the report and docs/qemu-differences.md.</param>
public sealed record QemuDifference(string Key, string Qemu, string Ours, string Reason);
