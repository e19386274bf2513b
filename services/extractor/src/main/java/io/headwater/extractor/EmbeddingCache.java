package io.headwater.extractor;

import io.headwater.core.FatalException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeddings already computed, on local disk (RocksDB), keyed by SHA-256 of the backbone's
 * SHA-256, the token limit and the text. A replay, a backfill or a second task on the same texts
 * reads the vector back instead of running the backbone; a restart keeps the cache.
 *
 * <pre>{@code
 * try (EmbeddingCache cache = EmbeddingCache.open(dir, backbone.sha256() + "/256")) {
 *     Optional<float[]> v = cache.get(text);
 * }
 * }</pre>
 */
public final class EmbeddingCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddingCache.class);

    static {
        RocksDB.loadLibrary();
    }

    private final RocksDB db;
    private final Options options;
    private final byte[] namespace;
    /** Whether closing this closes the database: false for a {@link #namespace} view. */
    private final boolean owner;

    private EmbeddingCache(RocksDB db, Options options, String namespace, boolean owner) {
        this.db = db;
        this.options = options;
        this.namespace = (namespace + "\n").getBytes(StandardCharsets.UTF_8);
        this.owner = owner;
    }

    /**
     * The same database under another namespace, for a second backbone: RocksDB lets one process
     * open a directory once. Closing the view does nothing; closing this closes both.
     */
    public EmbeddingCache namespace(String other) {
        return new EmbeddingCache(db, options, other, false);
    }

    /**
     * @param dir       where the cache lives (created if missing)
     * @param namespace what makes a vector: backbone SHA-256 and token limit
     */
    public static EmbeddingCache open(Path dir, String namespace) {
        Options options = new Options().setCreateIfMissing(true);
        try {
            Files.createDirectories(dir);
            RocksDB db = RocksDB.open(options, dir.toAbsolutePath().toString());
            LOG.info("Embedding cache in {}", dir);
            return new EmbeddingCache(db, options, namespace, true);
        } catch (IOException | RocksDBException e) {
            options.close();
            throw new FatalException("Failed to open the embedding cache in " + dir + ": " + e.getMessage(), e);
        }
    }

    private byte[] key(String text) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(namespace);
            return sha.digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new FatalException("SHA-256 is not available in this JVM", e);
        }
    }

    public Optional<float[]> get(String text) {
        try {
            byte[] v = db.get(key(text));
            if (v == null) {
                return Optional.empty();
            }
            float[] out = new float[v.length / 4];
            ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return Optional.of(out);
        } catch (RocksDBException e) {
            throw new FatalException("Failed to read the embedding cache: " + e.getMessage(), e);
        }
    }

    public void put(String text, float[] vector) {
        ByteBuffer buf = ByteBuffer.allocate(4 * vector.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(vector);
        try {
            db.put(key(text), buf.array());
        } catch (RocksDBException e) {
            throw new FatalException("Failed to write the embedding cache: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (!owner) {
            return;
        }
        db.close();
        options.close();
    }
}
