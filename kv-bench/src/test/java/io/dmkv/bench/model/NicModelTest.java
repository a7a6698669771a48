package io.dmkv.bench.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** The NIC model does the arithmetic docs/nic-model.md states, and stays near FUSEE's published figures. */
class NicModelTest
{
    /** 2 µs RTT, 10 M verbs/s, 1 M atomics/s, 8 Gb/s = 1e9 B/s each way, no header bytes. */
    private static final NicSpec ROUND = new NicSpec("test", "round numbers", 2.0, 10e6, 1e6, 8, 0, 0, "test");
    /** 2 RTT; 2 READs, 1 WRITE, 1 atomic; 1000 B out, 500 B in. */
    private static final VerbMix OP = new VerbMix("op", 2, 2, 1, 1, 0, 1000, 500);

    @Test
    void handComputedExampleWithSharedAtomics()
    {
        final NicModel.Prediction p = NicModel.predict(OP,
            new NicModel.Setup(ROUND, 2, 10, 4, 1, NicModel.Atomics.SHARED));
        // latency: 2 x 2 us + (1000 + 500) B / 1e9 B/s = 4 + 1.5 = 5.5 us
        assertEquals(5.5, p.latencyMicros(), 1e-9);
        final Map<String, Double> b = p.bounds();
        // engine: 2 nodes / (3 verbs / 10 M + 1 atomic / 1 M) = 2 / 1.3 us
        assertEquals(2 / 1.3e-6, b.get(NicModel.MN_ENGINE), 1e-3);
        assertEquals(2e6, b.get(NicModel.MN_LINK_IN), 1e-6, "2 x 1e9 B/s / 1000 B");
        assertEquals(4e6, b.get(NicModel.MN_LINK_OUT), 1e-6, "2 x 1e9 B/s / 500 B");
        assertEquals(10e6, b.get(NicModel.CN_ENGINE), 1e-6, "4 nodes x 10 M / 4 verbs");
        assertEquals(4e6, b.get(NicModel.CN_LINK), 1e-6, "4 x 1e9 / max(1000, 500)");
        assertEquals(10 / 5.5e-6, b.get(NicModel.CLIENTS), 1e-3, "10 clients / 5.5 us");
        assertEquals(2 / 1.3e-6, p.throughput(), 1e-3);
        assertEquals(NicModel.MN_ENGINE, p.bottleneck());
    }

    @Test
    void theComputeNodeTermAddsProxyRpcsOnTheComputeNodesAndTheProxysCpu()
    {
        final NicModel.Setup setup = new NicModel.Setup(ROUND, 2, 10, 4, 1, NicModel.Atomics.SHARED);
        // 0.5 CN-to-CN RPCs per operation, 2 us of proxy CPU on 3 cores per compute node
        final NicModel.Prediction p = NicModel.predict(OP, setup, new NicModel.ComputeNode(0.5, 2, 3));
        assertEquals(5.5 + 2, p.latencyMicros(), 1e-9, "the proxy's CPU is on the critical path");
        final Map<String, Double> b = p.bounds();
        assertEquals(4 * 10e6 / (4 + 2 * 0.5), b.get(NicModel.CN_ENGINE), 1e-3, "each RPC passes two CN NICs");
        assertEquals(4 * 1e9 / (1000 + 2 * 0.5 * (NicModel.PROXY_RPC_BYTES + 0)), b.get(NicModel.CN_LINK), 1e-3);
        assertEquals(4 * 3 / 2e-6, b.get(NicModel.CN_PROXY_CPU), 1e-3, "4 nodes x 3 cores / 2 us");
        assertEquals(2 / 1.3e-6, b.get(NicModel.MN_ENGINE), 1e-3, "memory nodes see the same verbs");
        final NicModel.Prediction cpuBound = NicModel.predict(OP, setup, new NicModel.ComputeNode(0, 100, 1));
        assertEquals(NicModel.CN_PROXY_CPU, cpuBound.bottleneck());
        assertEquals(4 / 100e-6, cpuBound.throughput(), 1e-6);
        assertEquals(NicModel.predict(OP, setup).bounds().keySet().contains(NicModel.CN_PROXY_CPU), false,
            "FUSEE mode has no proxy");
    }

    @Test
    void handComputedExampleWithSeparateAtomics()
    {
        final NicModel.Prediction p = NicModel.predict(OP,
            new NicModel.Setup(ROUND, 2, 10, 4, 1, NicModel.Atomics.SEPARATE));
        assertEquals(5e6, p.bounds().get(NicModel.MN_VERBS), 1e-6, "2 x 10 M / 4 verbs");
        assertEquals(2e6, p.bounds().get(NicModel.MN_ATOMICS), 1e-6, "2 x 1 M / 1 atomic");
        // now the 10 clients, each waiting 5.5 us per operation, are the limit
        assertEquals(10 / 5.5e-6, p.throughput(), 1e-3);
        assertEquals(NicModel.CLIENTS, p.bottleneck());
    }

    @Test
    void headersCountOnTheWire()
    {
        // FUSEE's SEARCH on ConnectX-3: 3 READs return 2 x 128 B of buckets and its 1,088-B object
        // (a 1 KiB pair with header and log tail, in 64-B units), and 3 x 30 B of headers
        final VerbMix search = FuseeReference.operations().get("SEARCH");
        final NicModel.Prediction p = NicModel.predict(search, FuseeReference.testbed(NicSpec.CX3,
            NicModel.Atomics.SHARED));
        final double link = 54.55e9 / 8;
        assertEquals(2 * link / (1344 + 90), p.bounds().get(NicModel.MN_LINK_OUT), 1e-3);
        assertEquals(NicModel.MN_LINK_OUT, p.bottleneck());
        assertEquals(2 * 2.0 + (1344 + 90 + 3 * 42) / link * 1e6, p.latencyMicros(), 1e-9);
    }

    @Test
    void workloadMixesAreWeightedAverages()
    {
        final Map<String, VerbMix> ops = FuseeReference.operations();
        final VerbMix a = FuseeReference.workloads(ops).get("YCSB A");
        final VerbMix s = ops.get("SEARCH");
        final VerbMix u = ops.get("UPDATE");
        assertEquals((s.rtts() + u.rtts()) / 2, a.rtts(), 1e-12);
        assertEquals((s.atomics() + u.atomics()) / 2, a.atomics(), 1e-12);
        assertEquals((s.bytesIn() + u.bytesIn()) / 2, a.bytesIn(), 1e-12);
        assertEquals(0.05 * ops.get("INSERT").writes(), FuseeReference.workloads(ops).get("YCSB D").writes(), 1e-12);
    }

    /**
     * The check of docs/nic-model.md: with FUSEE's verb mix and the ConnectX-3 preset, every
     * published throughput is within 55% of the model (SEARCH, INSERT, UPDATE and YCSB A within
     * 10%), and every single-client p50 latency within 30%.
     */
    @Test
    void fuseeCheckStaysWithinTheStatedErrorBounds()
    {
        final ModelReport report = new ModelReport(NicSpec.CX3, NicModel.Atomics.SHARED, null,
            FuseeReference.testbed(NicSpec.CX3, NicModel.Atomics.SHARED));
        assertEquals(8, report.checked().size());
        for (final ModelReport.Row r : report.checked())
        {
            assertTrue(Math.abs(r.throughputError()) <= 0.55, r.name() + " throughput error " + r.throughputError());
            if (!Double.isNaN(r.publishedP50()))
            {
                assertTrue(Math.abs(r.latencyError()) <= 0.30, r.name() + " latency error " + r.latencyError());
            }
            if (r.name().matches("SEARCH|INSERT|UPDATE|YCSB A"))
            {
                assertTrue(Math.abs(r.throughputError()) <= 0.10, r.name() + " throughput error "
                    + r.throughputError());
            }
        }
    }

    @Test
    void everyNumberOfTheModelIsLabelledAModel()
    {
        final String text = new ModelReport(NicSpec.CX3, NicModel.Atomics.SHARED, null,
            FuseeReference.testbed(NicSpec.CX3, NicModel.Atomics.SHARED)).text();
        assertTrue(text.startsWith("NIC MODEL (a model, not a measurement"), text);
        for (final String line : text.split("\n"))
        {
            if (line.startsWith("| throughput") || line.startsWith("| single-client"))
            {
                assertTrue(line.contains("| model: FUSEE mix") && line.contains("| model error")
                    && line.contains("| model: dmkv mix"), line);
            }
        }
        assertTrue(text.contains("| SEARCH ") && text.contains("9.29") && text.contains("9.51"), text);
    }

    @Test
    void presetsAreNamedAndOverridable()
    {
        assertEquals(NicSpec.CX3, NicSpec.named("cx3"));
        assertEquals(NicSpec.CX6, NicSpec.named("CX6"));
        final NicSpec slow = NicSpec.CX6.with(null, null, 2e6, null);
        assertEquals(2e6, slow.atomicRate());
        assertEquals(NicSpec.CX6.verbRate(), slow.verbRate());
        assertTrue(NicSpec.CX3.linkBytesPerSecond() > 6.8e9 && NicSpec.CX3.linkBytesPerSecond() < 6.9e9);
    }
}
