package io.dmkv.bench.model;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A model — not a measurement — of what a named RDMA NIC would deliver for an operation with a
 * known {@link VerbMix}, on M memory nodes serving C clients. docs/nic-model.md states it with
 * its parameters and its error against FUSEE's published figures.
 *
 * <pre>
 *   verbs v = READs + WRITEs + atomics + RPCs          (per operation)
 *   wire bytes out  = bytesOut + v × requestHeader     (client → memory node)
 *   wire bytes in   = bytesIn  + v × responseHeader    (memory node → client)
 *
 *   latency L       = RTTs × rtt + (out + in) / link                   (unloaded)
 *
 *   throughput X    = min of
 *     memory-node NIC engine   M / ((v − atomics) / verbRate + atomics / atomicRate)
 *                              (SEPARATE: min(M × verbRate / v, M × atomicRate / atomics))
 *     memory-node link in      M × link / out
 *     memory-node link out     M × link / in
 *     client-node NIC engine   N × verbRate / v
 *     client-node link         N × link / max(out, in)
 *     client concurrency       C × outstanding / L                      (Little's law)
 *
 *   compute-node term (FlexKV mode, {@link ComputeNode}):
 *     latency        L += proxy CPU per operation
 *     CN NIC engine  N × verbRate / (v + 2 × cnRpcs)         (each CN-to-CN RPC passes two CN NICs)
 *     CN link        N × link / (max(out, in) + 2 × cnRpcs × (RPC payload + headers))
 *     CN proxy CPU   N × proxy cores / proxy CPU per operation
 * </pre>
 * The load spreads evenly over the M memory nodes (index, objects and replicas are placed by
 * hash) and over the N client nodes. By default an atomic occupies the NIC's engine as long as
 * 1/atomicRate and any other verb 1/verbRate, so they add up ({@link Atomics#SHARED}); treating
 * them as separate resources is {@link Atomics#SEPARATE}. Nothing models contention on hot keys,
 * retries, queueing below saturation, PCIe, or the CPUs other than a proxy's.
 */
public final class NicModel
{
    /** Memory-node NIC engine (verbs and atomics). */
    public static final String MN_ENGINE = "MN NIC engine";
    public static final String MN_VERBS = "MN NIC verb rate";
    public static final String MN_ATOMICS = "MN NIC atomic rate";
    public static final String MN_LINK_IN = "MN link in";
    public static final String MN_LINK_OUT = "MN link out";
    public static final String CN_ENGINE = "CN NIC verb rate";
    public static final String CN_LINK = "CN link";
    public static final String CLIENTS = "client concurrency";
    public static final String CN_PROXY_CPU = "CN proxy CPU";
    /** Payload each way of a CN-to-CN proxy RPC (the request's hash, slot, log address and key; the answer's slot). */
    public static final int PROXY_RPC_BYTES = 64;

    private NicModel()
    {
    }

    /** How atomics load a NIC. */
    public enum Atomics
    {
        /** Atomics and other verbs share one engine: their times add up. */
        SHARED,
        /** The atomic rate and the verb rate are separate limits. */
        SEPARATE
    }

    /**
     * Where the operations run.
     *
     * @param nic         the NIC of every node.
     * @param memoryNodes M.
     * @param clients     C: clients issuing operations one after another.
     * @param clientNodes N: machines the clients run on (each with one NIC).
     * @param outstanding operations each client keeps in flight.
     * @param atomics     how atomics load a NIC.
     */
    public record Setup(NicSpec nic, int memoryNodes, int clients, int clientNodes, int outstanding, Atomics atomics)
    {
        public Setup
        {
            if (memoryNodes < 1 || clients < 1 || clientNodes < 1 || outstanding < 1)
            {
                throw new IllegalArgumentException("memory nodes, clients, client nodes and outstanding operations "
                    + "must be at least 1");
            }
        }

        /** {@code clients} on as many client nodes as FUSEE used per client: 8 clients a node. */
        public static Setup of(final NicSpec nic, final int memoryNodes, final int clients)
        {
            return new Setup(nic, memoryNodes, clients, (clients + 7) / 8, 1, Atomics.SHARED);
        }

        public String summary()
        {
            return String.format(Locale.ROOT, "%s; %d memory nodes, %d clients on %d client nodes, %d operation%s in "
                + "flight each, atomics %s", nic.name(), memoryNodes, clients, clientNodes, outstanding,
                outstanding == 1 ? "" : "s", atomics.name().toLowerCase(Locale.ROOT));
        }
    }

    /**
     * What the model predicts for one operation (or workload mix).
     *
     * @param latencyMicros unloaded latency, µs.
     * @param throughput    operations per second.
     * @param bottleneck    the resource that bounds the throughput.
     * @param bounds        every resource's bound, operations per second.
     */
    public record Prediction(double latencyMicros, double throughput, String bottleneck, Map<String, Double> bounds)
    {
    }

    /**
     * The compute nodes' share of an operation in FlexKV mode.
     *
     * @param cnRpcs           CN-to-CN proxy RPCs per operation (each already one of the mix's round trips).
     * @param proxyCpuMicros   CPU a proxy spends per operation, µs.
     * @param proxyCores       cores per compute node serving proxy work.
     */
    public record ComputeNode(double cnRpcs, double proxyCpuMicros, int proxyCores)
    {
        public ComputeNode
        {
            if (cnRpcs < 0 || proxyCpuMicros < 0 || proxyCores < 1)
            {
                throw new IllegalArgumentException("proxy RPCs and CPU per operation must not be negative, and a "
                    + "compute node has at least one proxy core");
            }
        }
    }

    /** The model's prediction for {@code mix} on {@code setup}, with no compute-node term (FUSEE mode). */
    public static Prediction predict(final VerbMix mix, final Setup setup)
    {
        return predict(mix, setup, null);
    }

    /** The model's prediction for {@code mix} on {@code setup}, with the compute-node term {@code cn} (null: none). */
    public static Prediction predict(final VerbMix mix, final Setup setup, final ComputeNode cn)
    {
        final NicSpec nic = setup.nic();
        final double v = mix.verbs();
        if (v <= 0)
        {
            throw new IllegalArgumentException(mix.name() + " has no verbs");
        }
        final double link = nic.linkBytesPerSecond();
        final double out = mix.bytesOut() + v * nic.requestHeaderBytes();
        final double in = mix.bytesIn() + v * nic.responseHeaderBytes();
        final double latency = mix.rtts() * nic.rttMicros() * 1e-6 + (out + in) / link
            + (cn == null ? 0 : cn.proxyCpuMicros() * 1e-6);
        final double cnMessages = cn == null ? 0 : 2 * cn.cnRpcs();
        final double cnRpcBytes = cnMessages * (PROXY_RPC_BYTES + Math.max(nic.requestHeaderBytes(),
            nic.responseHeaderBytes()));
        final int m = setup.memoryNodes();
        final Map<String, Double> bounds = new LinkedHashMap<>();
        if (setup.atomics() == Atomics.SHARED)
        {
            bounds.put(MN_ENGINE, m / ((v - mix.atomics()) / nic.verbRate() + mix.atomics() / nic.atomicRate()));
        }
        else
        {
            bounds.put(MN_VERBS, m * nic.verbRate() / v);
            if (mix.atomics() > 0)
            {
                bounds.put(MN_ATOMICS, m * nic.atomicRate() / mix.atomics());
            }
        }
        bounds.put(MN_LINK_IN, m * link / out);
        bounds.put(MN_LINK_OUT, m * link / in);
        bounds.put(CN_ENGINE, setup.clientNodes() * nic.verbRate() / (v + cnMessages));
        bounds.put(CN_LINK, setup.clientNodes() * link / (Math.max(out, in) + cnRpcBytes));
        if (cn != null && cn.proxyCpuMicros() > 0)
        {
            bounds.put(CN_PROXY_CPU, setup.clientNodes() * (double)cn.proxyCores() / (cn.proxyCpuMicros() * 1e-6));
        }
        bounds.put(CLIENTS, (double)setup.clients() * setup.outstanding() / latency);
        String bottleneck = null;
        double x = Double.POSITIVE_INFINITY;
        for (final Map.Entry<String, Double> e : bounds.entrySet())
        {
            if (e.getValue() < x)
            {
                x = e.getValue();
                bottleneck = e.getKey();
            }
        }
        return new Prediction(latency * 1e6, x, bottleneck, bounds);
    }
}
