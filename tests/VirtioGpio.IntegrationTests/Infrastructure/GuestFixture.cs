// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>
/// Collection fixture: locates the guest artifacts once. When they are missing the tests are skipped by their
/// attributes, unless <c>VIRTIOGPIO_REQUIRE_GUEST=1</c>; then this constructor fails every test with the reason.
/// </summary>
public sealed class GuestFixture
{
    public GuestFixture()
    {
        Environment = GuestEnvironment.Current;
        if (Environment.MissingReason is { } reason && GuestEnvironment.Required)
        {
            throw new InvalidOperationException(
                $"{GuestEnvironment.RequireVariable}=1 but the real-guest tests cannot run: {reason}");
        }
    }

    public GuestEnvironment Environment { get; }

    /// <summary>One line describing the environment, for test output.</summary>
    public string Describe() =>
        $"QEMU {Environment.QemuVersion} ({Environment.Qemu}), kernel {Environment.KernelAbi}, guest dir {Environment.GuestDirectory}";
}
