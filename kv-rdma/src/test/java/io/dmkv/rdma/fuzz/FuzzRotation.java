package io.dmkv.rdma.fuzz;

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
