package io.dmkv.bench.model;

import java.util.Locale;

/**
 * The parameters of the NIC model for one RDMA NIC. Every value is an assumption taken from
 * public figures (see {@link #source}), not a measurement on this machine; docs/nic-model.md says
 * where each comes from.
 *
 * @param id                  short name for {@code --nic}.
 * @param name                what the NIC is.
 * @param rttMicros           round trip of a small one-sided verb, µs (NIC to NIC, with the switch).
 * @param verbRate            verbs per second one NIC serves (its message rate).
 * @param atomicRate          CAS/FAA per second one NIC executes.
 * @param linkGbps            data rate of the link, each way, Gb/s (after line encoding).
 * @param requestHeaderBytes  bytes on the wire per request beyond its payload (InfiniBand LRH, BTH, RETH, CRCs).
 * @param responseHeaderBytes bytes on the wire per response or acknowledgement beyond its payload (LRH, BTH, AETH, CRCs).
 * @param source              where the numbers come from.
 */
public record NicSpec(String id, String name, double rttMicros, double verbRate, double atomicRate, double linkGbps,
    int requestHeaderBytes, int responseHeaderBytes, String source)
{
    /**
     * FUSEE's testbed NIC. Link: FDR 4x, 14.0625 Gb/s per lane with 64b/66b encoding = 54.5 Gb/s of
     * data. RTT 2.0 µs: twice the about 1 µs one-way latency Mellanox quotes for ConnectX-3. Verb
     * rate 26 M/s: HERD (Kalia et al., SIGCOMM 2014) serves 26 Mops on ConnectX-3, "similar to
     * native RDMA read throughput". Atomics 2.7 M/s: the ConnectX-3 atomic rate reported by Kalia
     * et al. (USENIX ATC 2016).
     */
    public static final NicSpec CX3 = new NicSpec("cx3", "ConnectX-3 FDR 56 Gb/s", 2.0, 26e6, 2.7e6, 54.55, 42, 30,
        "assumed: FDR 4x data rate 54.5 Gb/s; RTT 2 x ~1 us one-way (Mellanox); 26 M verbs/s (HERD, SIGCOMM'14, "
            + "ConnectX-3); 2.7 M atomics/s (Kalia et al., ATC'16, ConnectX-3)");

    /**
     * A 100 Gb/s ConnectX-6 (HDR100 or 100 GbE). Link 100 Gb/s of data (HDR100: 2 lanes of 53.125
     * Gb/s, 64b/66b). RTT 1.2 µs: twice NVIDIA's "sub 600 ns" latency. Verb rate 215 M/s: NVIDIA's
     * ConnectX-6 message rate (an upper bound for one 100 Gb/s port). Atomics 40 M/s: an order of
     * magnitude only; no vendor figure exists, and atomics on one address are much slower.
     */
    public static final NicSpec CX6 = new NicSpec("cx6", "ConnectX-6 100 Gb/s", 1.2, 215e6, 40e6, 100, 42, 30,
        "assumed: 100 Gb/s data rate; RTT 2 x 0.6 us (NVIDIA, sub-600 ns); 215 M msgs/s (NVIDIA ConnectX-6 brief); "
            + "40 M atomics/s (order of magnitude only, no vendor figure)");

    /** The preset named {@code id} ({@code cx3} or {@code cx6}). */
    public static NicSpec named(final String id)
    {
        switch (id.trim().toLowerCase(Locale.ROOT))
        {
            case "cx3":
            case "connectx-3":
                return CX3;
            case "cx6":
            case "connectx-6":
                return CX6;
            default:
                throw new IllegalArgumentException("no NIC preset '" + id + "': use cx3 or cx6");
        }
    }

    /** Bytes per second each way. */
    public double linkBytesPerSecond()
    {
        return linkGbps * 1e9 / 8;
    }

    /** This NIC with some parameters replaced (null keeps the preset's). */
    public NicSpec with(final Double rtt, final Double verbs, final Double atomics, final Double gbps)
    {
        if (rtt == null && verbs == null && atomics == null && gbps == null)
        {
            return this;
        }
        return new NicSpec(id, name + " (modified)", rtt != null ? rtt : rttMicros, verbs != null ? verbs : verbRate,
            atomics != null ? atomics : atomicRate, gbps != null ? gbps : linkGbps, requestHeaderBytes,
            responseHeaderBytes, source + "; overridden on the command line");
    }

    /** One line: the parameters. */
    public String summary()
    {
        return String.format(Locale.ROOT, "%s: RTT %.2f us, %.1f M verbs/s, %.2f M atomics/s, %.1f Gb/s each way, "
            + "headers %d B per request, %d B per response", name, rttMicros, verbRate / 1e6, atomicRate / 1e6, linkGbps,
            requestHeaderBytes, responseHeaderBytes);
    }
}
