package io.dmkv.rdma.fuzz;

import java.lang.management.ManagementFactory;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Picks the one fuzz target a build fuzzes (Jazzer fuzzes one target per JVM). Every fuzz test
 * class carries {@code @ExtendWith(FuzzRotation.class)}. Replaying corpora (no {@code JAZZER_FUZZ})
 * runs every target; the build's {@code fuzz-rotating} run ({@code dmkv.fuzz.rotate}) enables only
 * today's target: {@link #TARGETS}[day of the year mod their count], or the one named by
 * {@code -Ddmkv.fuzz.target=}. scripts/fuzz selects its targets with {@code -Dtest} instead.
 */
public final class FuzzRotation implements ExecutionCondition
{
    /** Every fuzz test class of the project, by simple name (a target missing here fails its replay). */
    public static final List<String> TARGETS = List.of(
        "TcpServerFuzzTest",
        "TcpClientFuzzTest",
        "HelloFuzzTest",
        "LayoutFuzzTest",
        "MemoryNodeRpcFuzzTest",
        "CorruptObjectFuzzTest",
        "ProxyRpcFuzzTest",
        "BatchFrameFuzzTest",
        "FieldRecordCodecFuzzTest");

    /**
     * Seconds a fuzzing JVM may spend before its fuzzing starts: starting, replaying the corpus as
     * tests under Jazzer's agent, and running it once more as libFuzzer's seed corpus.
     */
    public static final long REPLAY_ALLOWANCE_SECONDS = 20;

    /**
     * True while fuzzing (JAZZER_FUZZ set) once this JVM has run for {@code dmkv.fuzz.seconds}
     * (the day's budget, also libFuzzer's {@code -max_total_time}) plus
     * {@link #REPLAY_ALLOWANCE_SECONDS}. libFuzzer counts its time limit from the start of
     * fuzzing and checks it only between the inputs it makes up, never while Jazzer first replays
     * the corpus as tests or while libFuzzer runs it as its seed corpus (Jazzer hands it the
     * checked-in inputs twice). A target whose inputs may each wait for a timeout calls this
     * first and returns at once when it answers true, so those replays cannot stretch a fuzzing
     * day past its budget. Replaying the corpus in an ordinary build (no JAZZER_FUZZ) is never cut
     * short.
     */
    public static boolean budgetSpent()
    {
        if (System.getenv("JAZZER_FUZZ") == null)
        {
            return false;
        }
        final long seconds = Long.getLong("dmkv.fuzz.seconds", 40) + REPLAY_ALLOWANCE_SECONDS;
        return ManagementFactory.getRuntimeMXBean().getUptime() > seconds * 1000;
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(final ExtensionContext context)
    {
        final String target = context.getRequiredTestClass().getSimpleName();
        if (!TARGETS.contains(target))
        {
            throw new IllegalStateException("fuzz target " + target + " is missing from FuzzRotation.TARGETS");
        }
        if (!Boolean.getBoolean("dmkv.fuzz.rotate"))
        {
            return ConditionEvaluationResult.enabled("not rotating");
        }
        final String filter = System.getProperty("dmkv.fuzz.testFilter", "");
        if (!filter.isBlank() && !filter.startsWith("${"))
        {
            return ConditionEvaluationResult.disabled("the run names its tests (-Dtest): no fuzzing");
        }
        final String today = today();
        return target.equals(today) ? ConditionEvaluationResult.enabled("today's fuzz target")
            : ConditionEvaluationResult.disabled("today's fuzz target is " + today);
    }

    /** The target fuzzed today (UTC), or the one {@code dmkv.fuzz.target} names. */
    public static String today()
    {
        final String named = System.getProperty("dmkv.fuzz.target", "");
        if (!named.isBlank())
        {
            return named;
        }
        return TARGETS.get(LocalDate.now(ZoneOffset.UTC).getDayOfYear() % TARGETS.size());
    }
}
