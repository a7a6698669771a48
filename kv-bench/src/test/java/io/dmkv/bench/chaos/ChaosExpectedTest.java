package io.dmkv.bench.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the chaos runs accept for a key, from a writer's log. */
class ChaosExpectedTest
{
    @Test
    void aFailedWriteStaysPossibleAfterLaterAcknowledgementsAndAnAcknowledgedOneIsReplaced(@TempDir final Path dir)
        throws Exception
    {
        final Path log = dir.resolve("writer.log");
        Files.writeString(log, String.join("\n",
            "B k1 1 v1",
            "A k1 1 100",
            "B k1 2 v2",
            "F k1 2 200 KvOutcomeUnknownException",
            "B k1 3 v3",
            "A k1 3 300",
            "B k1 4 v4",
            "A k1 4 400",
            "B k2 5 w5",
            "A k2 5 500",
            "B k2 6 w6",
            "A k2 6 600",
            "B k2 7 -",
            ""), StandardCharsets.UTF_8);
        final Map<String, List<String>> allowed = ChaosRun.expected(List.of(log));
        // v1 was acknowledged and then replaced; v2 failed after it may have proposed, so a later write may still apply it.
        assertEquals(List.of("v4", "v2"), allowed.get("k1"));
        // w6 acknowledged, then a delete in flight at the kill.
        assertEquals(List.of("w6", "-"), allowed.get("k2"));
    }
}
