// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Benchmarks;

/// <summary>How the engine variants read the request and write the response of each chain.</summary>
public enum ChainAccess
{
    /// <summary><see cref="Virtqueues.DescriptorChain.TryCopyFromReadable{T}(out T)"/> and
    /// <see cref="Virtqueues.DescriptorChain.TryCopyToWritable{T}(in T)"/>: fixed-size copies (the device's path).</summary>
    TypedCopy,

    /// <summary><see cref="Virtqueues.DescriptorChainReader"/> and <see cref="Virtqueues.DescriptorChainWriter"/>: the general gather/scatter path.</summary>
    ReaderWriter,
}
