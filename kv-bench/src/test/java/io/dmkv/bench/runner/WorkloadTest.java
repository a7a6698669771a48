package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.KvConfig;

/** Workloads by name mirror YCSB's core workloads; files read YCSB's property names. */
class WorkloadTest
{
    @Test
    void namedWorkloadsAreYcsbsCoreMixes()
    {
        final Workload a = Workload.named("a");
        assertEquals(0.5, a.readProportion());
        assertEquals(0.5, a.updateProportion());
        assertEquals(Workload.Distribution.ZIPFIAN, a.distribution());
        assertEquals(0.99, a.zipfianConstant());
        assertEquals(0.95, Workload.named("workloadb").readProportion());
        assertEquals(1.0, Workload.named("C").readProportion());
        final Workload d = Workload.named("d");
        assertEquals(0.05, d.insertProportion(), 1e-12);
        assertEquals(Workload.Distribution.LATEST, d.distribution());
        assertEquals(0.5, Workload.named("f").readModifyWriteProportion());
        assertEquals(100_000, a.records());
        assertEquals(1000, a.maxValueSize());
        assertThrows(IllegalArgumentException.class, () -> Workload.named("e"));
        assertThrows(IllegalArgumentException.class, () -> Workload.named("z"));
    }

    @Test
    void propertiesAreReadAsYcsbDoesAndProportionsAreNormalised()
    {
        final Properties p = new Properties();
        p.setProperty("readproportion", "3");
        p.setProperty("updateproportion", "1");
        p.setProperty("requestdistribution", "uniform");
        p.setProperty("recordcount", "1234");
        p.setProperty("operationcount", "5000");
        p.setProperty("fieldcount", "2");
        p.setProperty("fieldlength", "512");
        final Workload w = Workload.fromProperties("mine", p);
        assertEquals(0.75, w.readProportion());
        assertEquals(0.25, w.updateProportion());
        assertEquals(Workload.Distribution.UNIFORM, w.distribution());
        assertEquals(1234, w.records());
        assertEquals(5000, w.operations());
        assertEquals(1024, w.minValueSize());
        assertEquals(1024, w.maxValueSize());
        assertTrue(w.summary().startsWith("mine: 75% READ, 25% UPDATE, uniform, 1,234 records of 1024 B"), w.summary());
    }

    @Test
    void unsupportedPropertiesAreRefusedWithTheirName()
    {
        final Properties scans = new Properties();
        scans.setProperty("scanproportion", "0.95");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Workload.fromProperties("e", scans)).getMessage()
            .contains("scan"));
        final Properties hotspot = new Properties();
        hotspot.setProperty("requestdistribution", "hotspot");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Workload.fromProperties("h", hotspot))
            .getMessage().contains("hotspot"));
        final Properties none = new Properties();
        none.setProperty("readproportion", "0");
        none.setProperty("updateproportion", "0");
        assertThrows(IllegalArgumentException.class, () -> Workload.fromProperties("none", none));
    }

    @Test
    void keysAreSixteenBytesAndRunsInsertIntoTheirOwnRange()
    {
        assertEquals("user000000000042", new String(Keys.key(42), StandardCharsets.US_ASCII));
        assertEquals(Keys.LENGTH, Keys.key(Keys.MAX).length);
        assertThrows(IllegalArgumentException.class, () -> Keys.key(-1));
        assertEquals(1000, Keys.insertBase(1000, 0));
        assertEquals(1000 + Keys.RUN_STRIDE, Keys.insertBase(1000, 1));
    }

    @Test
    void aShiftingHotSetIsOnlyZipfianAndStrictlyInsideTheRun()
    {
        final Workload b = Workload.named("b");
        assertTrue(!b.shifts());
        final Workload shifting = b.withHotSetShift(0.5);
        assertTrue(shifting.shifts());
        assertTrue(shifting.summary().endsWith("the hot set moves to other keys at 50% of the run"), shifting.summary());
        assertEquals(0.5, shifting.describe().get("hotSetShift"));
        assertEquals(0.5, shifting.withRecords(10).withOperations(5).withValueSizes(8, 8).hotSetShift(),
            "the shift survives the other options");
        assertTrue(!shifting.withDistribution(Workload.Distribution.UNIFORM, 0.99).shifts(),
            "a uniform distribution has no hot set to move");
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> b.withDistribution(Workload.Distribution.UNIFORM, 0.99).withHotSetShift(0.5)).getMessage()
            .contains("only a zipfian hot set can shift"));
        assertThrows(IllegalArgumentException.class, () -> b.withHotSetShift(0));
        assertThrows(IllegalArgumentException.class, () -> b.withHotSetShift(1));
    }

    @Test
    void theShiftedHotSetIsOtherKeys()
    {
        final int n = 100_000;
        final Set<Long> before = new HashSet<>();
        final Set<Long> after = new HashSet<>();
        for (long rank = 0; rank < 100; rank++)
        {
            before.add(Keys.zipfianKey(rank, n, false));
            after.add(Keys.zipfianKey(rank, n, true));
            assertTrue(Keys.zipfianKey(rank, n, true) >= 0 && Keys.zipfianKey(rank, n, true) < n);
        }
        assertEquals(100, before.size(), "the hottest 100 ranks are 100 keys");
        assertEquals(100, after.size());
        final Set<Long> common = new HashSet<>(before);
        common.retainAll(after);
        assertTrue(common.size() <= 2, "the hot set moved to other keys; shared: " + common);
        assertEquals(Keys.scramble(7, n), Keys.zipfianKey(7, n, false), "unshifted ranks scatter as before");
    }

    @Test
    void aClientProcessGetsTheShiftAndTheWarmupWithItsSpec(@TempDir final Path dir) throws Exception
    {
        final Workload w = Workload.named("b").withRecords(500).withHotSetShift(0.25);
        final BenchSpec spec = new BenchSpec(1, KvConfig.builder().memnodes(List.of("127.0.0.1:1")).build(), w, 2, 2, 4,
            0, Duration.ofMillis(2500), Duration.ofSeconds(8), -1, 42, dir.resolve("out.json"));
        spec.write(dir.resolve("spec.properties"));
        final BenchSpec read = BenchSpec.read(dir.resolve("spec.properties"));
        assertEquals(w, read.workload());
        assertEquals(Duration.ofMillis(2500), read.warmup());
        assertEquals(Duration.ofSeconds(8), read.duration());
    }
}
