package io.headwater.trainer;

import io.headwater.core.DriftDetector;
import io.headwater.core.Head;
import io.headwater.core.HeadType;
import io.headwater.core.WindowedAccuracy;
import io.headwater.kafka.BackboneRef;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Everything the trainer knows about one head of one task: the head's full training state, the
 * test-then-train window, the drift detector on its errors, the backbone it learns from, the last
 * features offset learned per partition, when a candidate was last proposed and when the oldest
 * example not yet in a candidate was learned. One state-store entry per task and head type
 * ({@link #key(String, HeadType)}).
 */
final class TaskState {
    /**
     * 2: one state per task and head type, with a drift detector; the lda head's state gained
     * forgetting and its solve schedule; heads gained sgd.
     */
    private static final int FORMAT_VERSION = 2;

    final String task;
    final Head head;
    final WindowedAccuracy window;
    final DriftDetector drift;
    final BackboneRef backbone;
    final Map<Integer, Long> featureOffsets;
    long examplesSinceCandidate;
    long lastCandidateAtMs;
    /** Timestamp of the first example learned since the last candidate; 0 when there is none. */
    long oldestUnproposedAtMs;
    /** Examples learned when drift was last detected; 0 when never. */
    long lastDriftAt;
    /** Changes the detector reported that raised the error rate (its falls are the head learning). */
    long driftDetections;

    TaskState(String task, Head head, WindowedAccuracy window, DriftDetector drift, BackboneRef backbone,
              Map<Integer, Long> featureOffsets, long examplesSinceCandidate, long lastCandidateAtMs) {
        this.task = Objects.requireNonNull(task, "task cannot be null");
        this.head = head;
        this.window = window;
        this.drift = drift;
        this.backbone = backbone;
        this.featureOffsets = new TreeMap<>(featureOffsets);
        this.examplesSinceCandidate = examplesSinceCandidate;
        this.lastCandidateAtMs = lastCandidateAtMs;
    }

    /** State-store key of a task's head of a type: {@code task/type}. */
    static String key(String task, HeadType type) {
        return task + "/" + type.id();
    }

    byte[] encode() {
        byte[] taskBytes = task.getBytes(StandardCharsets.UTF_8);
        byte[] headType = head.type().id().getBytes(StandardCharsets.UTF_8);
        byte[] bbId = backbone.id().getBytes(StandardCharsets.UTF_8);
        byte[] bbSha = backbone.sha256().getBytes(StandardCharsets.UTF_8);
        int size = 4 + 8 + 8 + 8 + 8 + 8 + 4 + taskBytes.length + 4 + headType.length + 4 + bbId.length + 4 + bbSha.length + 4
                + 4 + featureOffsets.size() * 12 + window.encodedSize() + drift.encodedSize() + head.encodedSize();
        ByteBuffer buf = ByteBuffer.allocate(size);
        buf.putInt(FORMAT_VERSION).putLong(examplesSinceCandidate).putLong(lastCandidateAtMs)
                .putLong(oldestUnproposedAtMs).putLong(lastDriftAt).putLong(driftDetections);
        buf.putInt(taskBytes.length).put(taskBytes).putInt(headType.length).put(headType);
        buf.putInt(bbId.length).put(bbId).putInt(bbSha.length).put(bbSha).putInt(backbone.dimension());
        buf.putInt(featureOffsets.size());
        featureOffsets.forEach((p, o) -> buf.putInt(p).putLong(o));
        window.encode(buf);
        drift.encode(buf);
        head.encode(buf);
        return buf.array();
    }

    static TaskState decode(byte[] bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        int version = buf.getInt();
        if (version != FORMAT_VERSION) {
            throw new IllegalStateException("unsupported trainer state format version " + version
                    + " (this build reads " + FORMAT_VERSION + "): reset the trainer's state (application id "
                    + "or state directory and changelog) to retrain from the features topic");
        }
        long since = buf.getLong();
        long lastAt = buf.getLong();
        long oldest = buf.getLong();
        long lastDrift = buf.getLong();
        long detections = buf.getLong();
        String task = string(buf);
        HeadType type = HeadType.of(string(buf));
        BackboneRef backbone = new BackboneRef(string(buf), string(buf), buf.getInt());
        int n = buf.getInt();
        Map<Integer, Long> offsets = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            offsets.put(buf.getInt(), buf.getLong());
        }
        WindowedAccuracy window = WindowedAccuracy.decode(buf);
        DriftDetector drift = DriftDetector.decode(buf);
        Head head = type.decode(buf);
        TaskState s = new TaskState(task, head, window, drift, backbone, offsets, since, lastAt);
        s.oldestUnproposedAtMs = oldest;
        s.lastDriftAt = lastDrift;
        s.driftDetections = detections;
        return s;
    }

    private static String string(ByteBuffer buf) {
        byte[] b = new byte[buf.getInt()];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    static Serde<TaskState> serde() {
        Serializer<TaskState> ser = (topic, s) -> s == null ? null : s.encode();
        Deserializer<TaskState> de = (topic, b) -> b == null ? null : decode(b);
        return Serdes.serdeFrom(ser, de);
    }
}
