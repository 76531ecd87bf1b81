// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport;

/// <summary>The outcome of <see cref="VirtioStatusRegister.Write"/>.</summary>
internal enum StatusWrite
{
    /// <summary>The new bits were taken.</summary>
    Applied,

    /// <summary>The write would clear bits: ignored.</summary>
    ClearsBits,

    /// <summary>FEATURES_OK was refused (left clear); other bits were taken.</summary>
    FeaturesRefused,

    /// <summary>DRIVER_OK without negotiated features: DRIVER_OK left clear.</summary>
    DriverOkWithoutFeatures,

    /// <summary>DRIVER_OK was set: the caller activates the device.</summary>
    DriverOk,
}
