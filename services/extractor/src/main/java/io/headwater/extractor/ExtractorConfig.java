package io.headwater.extractor;

import io.headwater.backbone.BackboneSpec;
import io.headwater.backbone.ExecutionProvider;
import io.headwater.backbone.ImageBackboneSpec;
import io.headwater.backbone.ImagePooling;
import io.headwater.backbone.ImageResize;
import io.headwater.backbone.PoolingMode;
import io.headwater.backbone.TensorNames;
import io.headwater.backbone.UserModel;
import io.headwater.kafka.HeadwaterConfigs;
import io.headwater.kafka.ServiceConfig;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The extractor's configuration: the common keys plus its own. Unknown keys go to the Kafka clients.
 *
 * <pre>{@code
 * ExtractorConfig config = new ExtractorConfig(Map.of("bootstrap.servers", "kafka:9092"));
 * }</pre>
 */
public final class ExtractorConfig extends ServiceConfig {
    public static final String GROUP_ID = "extractor.group.id";
    public static final String TRANSACTIONAL_ID = "extractor.transactional.id";
    public static final String BATCH_MAX_RECORDS = "extractor.batch.max.records";
    public static final String BATCH_MAX_WAIT_MS = "extractor.batch.max.wait.ms";
    public static final String BATCH_MAX_VECTORS = "extractor.batch.max.vectors";
    public static final String CACHE_DIR = "extractor.cache.dir";
    public static final String BACKBONE_NAME = "backbone.name";
    public static final String BACKBONE_MAX_TOKENS = "backbone.max.tokens";
    public static final String BACKBONE_BATCH_SIZE = "backbone.batch.size";
    public static final String BACKBONE_THREADS = "backbone.threads";
    public static final String BACKBONE_PROVIDER = "backbone.provider";
    public static final String BACKBONE_DEVICE_ID = "backbone.device.id";
    public static final String BACKBONE_DIMENSION = "backbone.dimension";
    public static final String BACKBONE_MODEL_PATH = "backbone.model.path";
    public static final String BACKBONE_TOKENIZER_PATH = "backbone.tokenizer.path";
    public static final String BACKBONE_MODEL_ID = "backbone.model.id";
    public static final String BACKBONE_POOLING = "backbone.pooling";
    public static final String BACKBONE_ROW_BY_ROW = "backbone.row.by.row";
    public static final String BACKBONE_INPUT_IDS_NAME = "backbone.input.ids.name";
    public static final String BACKBONE_ATTENTION_MASK_NAME = "backbone.attention.mask.name";
    public static final String BACKBONE_TOKEN_TYPE_IDS_NAME = "backbone.token.type.ids.name";
    public static final String BACKBONE_OUTPUT_NAME = "backbone.output.name";
    public static final String IMAGE_TASKS = "backbone.image.tasks";
    public static final String IMAGE_NAME = "backbone.image.name";
    public static final String IMAGE_MODEL_PATH = "backbone.image.model.path";
    public static final String IMAGE_MODEL_ID = "backbone.image.model.id";
    public static final String IMAGE_INPUT_NAME = "backbone.image.input.name";
    public static final String IMAGE_OUTPUT_NAME = "backbone.image.output.name";
    public static final String IMAGE_POOLING = "backbone.image.pooling";
    public static final String IMAGE_LAYOUT = "backbone.image.layout";
    public static final String IMAGE_SIZE = "backbone.image.size";
    public static final String IMAGE_MEAN = "backbone.image.mean";
    public static final String IMAGE_STD = "backbone.image.std";
    public static final String IMAGE_RESIZE = "backbone.image.resize";
    public static final String IMAGE_CONVERT_CHANNELS = "backbone.image.convert.channels";
    public static final String IMAGE_MAX_BYTES = "backbone.image.max.bytes";
    public static final String IMAGE_MAX_PIXELS = "backbone.image.max.pixels";
    public static final String IMAGE_NORMALIZE = "backbone.image.normalize";
    public static final String IMAGE_BATCH_SIZE = "backbone.image.batch.size";
    public static final String IMAGE_THREADS = "backbone.image.threads";
    public static final String IMAGE_DIMENSION = "backbone.image.dimension";
    /** Keys that describe a model loaded from backbone.model.path; a bundled backbone has its own. */
    private static final java.util.List<String> USER_MODEL_KEYS = java.util.List.of(BACKBONE_TOKENIZER_PATH,
            BACKBONE_MODEL_ID, BACKBONE_POOLING, BACKBONE_ROW_BY_ROW, BACKBONE_INPUT_IDS_NAME,
            BACKBONE_ATTENTION_MASK_NAME, BACKBONE_TOKEN_TYPE_IDS_NAME, BACKBONE_OUTPUT_NAME);

    public static final ConfigDef CONFIG = HeadwaterConfigs.common()
            .define(GROUP_ID, Type.STRING, "headwater-extractor", Importance.MEDIUM,
                    "Consumer group of the extractor instances.")
            .define(TRANSACTIONAL_ID, Type.STRING, "", Importance.MEDIUM,
                    "Transactional id of this instance's producer, also its consumer's group.instance.id (static membership). It must be unique per instance and stable across its restarts, so a restarted instance fences off and aborts its predecessor's open transaction and takes its partitions back at once. Empty means <group id>-<host name>: set it when several instances share a host.")
            .define(CACHE_DIR, Type.STRING, System.getProperty("java.io.tmpdir") + "/headwater-embedding-cache",
                    Importance.MEDIUM, "Directory of the local embedding cache (RocksDB), keyed by backbone and content hash: a replay or a second task on the same texts does not run the backbone again. Empty disables it.")
            .define(BATCH_MAX_RECORDS, Type.INT, 512, Range.between(1, 100_000), Importance.MEDIUM,
                    "Most text or image examples per batch. A batch is embedded (texts grouped by length) and written with its input offsets in one transaction; while one batch commits, the next one is embedded.")
            .define(BATCH_MAX_VECTORS, Type.INT, 4096, Range.between(1, 100_000), Importance.LOW,
                    "Most examples per batch in all, when they carry their own vectors (no backbone work): a batch is full at extractor.batch.max.records texts and images or this many examples. A commit costs about the same whatever its size, so vector streams go faster in larger transactions.")
            .define(BATCH_MAX_WAIT_MS, Type.LONG, 50L, Range.between(0, 60_000), Importance.MEDIUM,
                    "How long to wait for a batch to fill once its first example arrived. Longer makes fuller batches under light load at the cost of latency.")
            .define(BACKBONE_NAME, Type.STRING, BackboneSpec.defaults().name(), Importance.HIGH,
                    "The bundled pretrained backbone that embeds examples: all-minilm-l6-v2-q (int8, mean pooling, CPU), all-minilm-l6-v2 (float32, mean pooling, the one for a GPU) or bge-small-en-v15-q (int8, CLS pooling, CPU). Not used with backbone.model.path.")
            .define(BACKBONE_MAX_TOKENS, Type.INT, BackboneSpec.defaults().maxTokens(), Range.between(8, 512),
                    Importance.MEDIUM, "Texts are truncated to this many tokens.")
            .define(BACKBONE_BATCH_SIZE, Type.INT, BackboneSpec.defaults().batchSize(), Range.between(1, 4096),
                    Importance.MEDIUM, "Texts per backbone run for models that batch (texts are sorted by length first; on a GPU try 128 to 256); the int8 models (all-minilm-l6-v2-q, bge-small-en-v15-q) run one text per run, since their dynamic quantization makes a batch change each text's vector.")
            .define(BACKBONE_THREADS, Type.INT, BackboneSpec.defaults().intraOpThreads(), Range.between(0, 1024),
                    Importance.MEDIUM, "Cores the backbone uses: for models run row by row (the int8 ones), texts embedded at once (one thread each); for batching models, ONNX Runtime intra-op threads. 0 = one per core.")
            .define(BACKBONE_PROVIDER, Type.STRING, ExecutionProvider.AUTO.configValue(),
                    ConfigDef.CaseInsensitiveValidString.in("auto", "cuda", "cpu"), Importance.HIGH,
                    "Where the backbone runs: auto (CUDA when a CUDA session can be created and run, else the CPU; one INFO line says which and why), cuda (fail start-up when CUDA cannot be used) or cpu. CUDA needs the -Pgpu build (onnxruntime_gpu) and the CUDA 12 and cuDNN 9 libraries; dynamically int8-quantised models (all-minilm-l6-v2-q, bge-small-en-v15-q) always run on the CPU, and cuda refuses them.")
            .define(BACKBONE_DEVICE_ID, Type.INT, 0, Range.between(0, 1024), Importance.MEDIUM,
                    "CUDA device the backbone runs on when it uses CUDA.")
            .define(BACKBONE_DIMENSION, Type.INT, 0, Range.between(0, 65_536), Importance.LOW,
                    "Width the backbone's vectors must have; start-up fails if the model's output differs. 0 = no check.")
            .define(BACKBONE_MODEL_PATH, Type.STRING, "", new ConfigDef.NonNullValidator(), Importance.HIGH,
                    "An ONNX file (a BERT-style encoder with int64 inputs and per-token hidden states [batch, sequence, dimension]) to use instead of the bundled backbone.name. Its inputs and output shape are checked at start-up. Empty = the bundled backbone.")
            .define(BACKBONE_TOKENIZER_PATH, Type.STRING, "", new ConfigDef.NonNullValidator(), Importance.MEDIUM,
                    "The Hugging Face tokenizer.json of backbone.model.path. Empty = tokenizer.json in the model's directory.")
            .define(BACKBONE_MODEL_ID, Type.STRING, "", new ConfigDef.NonNullValidator(), Importance.MEDIUM,
                    "Stable id of the backbone.model.path model, published with every head built on it (beside the model's SHA-256). Empty = the model file's name without .onnx.")
            .define(BACKBONE_POOLING, Type.STRING, "mean", ConfigDef.CaseInsensitiveValidString.in("mean", "cls"),
                    Importance.MEDIUM, "How the backbone.model.path model's per-token states become one vector: mean (of the real tokens) or cls (the first token).")
            .define(BACKBONE_ROW_BY_ROW, Type.BOOLEAN, false, Importance.LOW,
                    "Whether the backbone.model.path model runs one text per session run, for models whose rows interact in a batch (dynamically int8-quantised ones). false = padded batches of backbone.batch.size.")
            .define(BACKBONE_INPUT_IDS_NAME, Type.STRING, TensorNames.STANDARD.inputIds(),
                    new ConfigDef.NonEmptyString(), Importance.LOW, "Name of the backbone.model.path model's token id input.")
            .define(BACKBONE_ATTENTION_MASK_NAME, Type.STRING, TensorNames.STANDARD.attentionMask(),
                    new ConfigDef.NonEmptyString(), Importance.LOW, "Name of the backbone.model.path model's attention mask input.")
            .define(BACKBONE_TOKEN_TYPE_IDS_NAME, Type.STRING, TensorNames.STANDARD.tokenTypeIds(),
                    new ConfigDef.NonEmptyString(), Importance.LOW, "Name of the backbone.model.path model's segment id input, fed only if the model has it.")
            .define(BACKBONE_OUTPUT_NAME, Type.STRING, TensorNames.STANDARD.output(),
                    new ConfigDef.NonEmptyString(), Importance.LOW, "Name of the backbone.model.path model's output of per-token hidden states [batch, sequence, dimension].")
            .define(IMAGE_TASKS, Type.STRING, "", new ConfigDef.NonNullValidator(), Importance.HIGH,
                    "A regular expression of task ids whose examples are images, embedded by the image backbone (backbone.image.*) instead of the text one; every other task keeps the text backbone, so text and image tasks share one examples topic. Empty = no image backbone is loaded.")
            .define(IMAGE_NAME, Type.STRING, ImageBackboneSpec.defaults().name(), new ConfigDef.NonEmptyString(),
                    Importance.HIGH, "The bundled image backbone: fashion-cnn (a 94k-parameter CNN the project trained on Fashion-MNIST; 28 x 28 grey input, 128-d mean-pooled features). Not used with backbone.image.model.path.")
            .define(IMAGE_MODEL_PATH, Type.STRING, "", new ConfigDef.NonNullValidator(), Importance.HIGH,
                    "An ONNX vision model (a ResNet, VGG, MobileNet...) with one float image input [batch, channels, height, width] or [batch, height, width, channels] to use instead of backbone.image.name. Its input name, layout and size are read from the graph and checked at start-up against the backbone.image.* keys.")
            .define(IMAGE_MODEL_ID, Type.STRING, "", new ConfigDef.NonNullValidator(), Importance.MEDIUM,
                    "Stable id of the backbone.image.model.path model, published with every head built on it. Empty = the file's name without .onnx.")
            .define(IMAGE_INPUT_NAME, Type.STRING, "", new ConfigDef.NonNullValidator(), Importance.LOW,
                    "The image model's input to feed. Empty = its only input.")
            .define(IMAGE_OUTPUT_NAME, Type.STRING, "", new ConfigDef.NonNullValidator(), Importance.MEDIUM,
                    "The image model's output to embed with: a feature map, a token sequence or a [batch, dimension] layer. Empty = the graph's headwater.image.output metadata, else its first output.")
            .define(IMAGE_POOLING, Type.STRING, "", ConfigDef.CaseInsensitiveValidString.in("", "mean", "max", "flatten", "none"),
                    Importance.MEDIUM, "How the output becomes one vector: mean or max over its positions (global pooling), flatten, or none for a [batch, dimension] output. Empty = the graph's headwater.image.pooling metadata, else mean for a feature map and none for a vector.")
            .define(IMAGE_LAYOUT, Type.STRING, "", ConfigDef.CaseInsensitiveValidString.in("", "nchw", "nhwc"),
                    Importance.LOW, "Where the input's channels are: nchw (PyTorch) or nhwc (TensorFlow). Empty = read from the input's shape (the axis of size 1 or 3).")
            .define(IMAGE_SIZE, Type.STRING, "", new ConfigDef.NonNullValidator(), Importance.MEDIUM,
                    "Input height x width, e.g. 224x224 (or 224): needed when the model's input size is dynamic, checked against it when fixed. Empty = the model's.")
            .define(IMAGE_MEAN, Type.LIST, "", Importance.MEDIUM,
                    "Per-channel mean subtracted from pixels scaled to [0, 1], one value or one per channel (ImageNet models: 0.485,0.456,0.406). Empty = the graph's headwater.image.mean metadata, else 0.")
            .define(IMAGE_STD, Type.LIST, "", Importance.MEDIUM,
                    "Per-channel standard deviation pixels are divided by after the mean (ImageNet models: 0.229,0.224,0.225). Empty = the graph's headwater.image.std metadata, else 1.")
            .define(IMAGE_RESIZE, Type.STRING, "exact", ConfigDef.CaseInsensitiveValidString.in("exact", "stretch", "crop"),
                    Importance.MEDIUM, "Images of another size than the input's: exact (dead-lettered, reason image-size), stretch (bilinear to the input size) or crop (shorter side scaled to fit, centre cut out).")
            .define(IMAGE_CONVERT_CHANNELS, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Whether grey images become RGB for a colour model, colour ones grey (BT.601 luma) for a grey model, and an alpha channel is dropped. false = such images are dead-lettered (reason image-channels).")
            .define(IMAGE_MAX_BYTES, Type.INT, ImageBackboneSpec.DEFAULT_MAX_BYTES, Range.between(1, 100_000_000),
                    Importance.MEDIUM, "Most encoded bytes of one image (after base64 decoding); larger ones are dead-lettered (reason image-too-large).")
            .define(IMAGE_MAX_PIXELS, Type.LONG, ImageBackboneSpec.DEFAULT_MAX_PIXELS, Range.between(1, 1L << 40),
                    Importance.MEDIUM, "Most pixels (width x height) of one image, read from its header before any pixel is decoded; larger ones are dead-lettered (reason image-too-large).")
            .define(IMAGE_NORMALIZE, Type.BOOLEAN, true, Importance.LOW,
                    "Whether image vectors are L2-normalised, as text vectors are.")
            .define(IMAGE_BATCH_SIZE, Type.INT, ImageBackboneSpec.defaults().batchSize(), Range.between(1, 4096),
                    Importance.MEDIUM, "Images per image-backbone run.")
            .define(IMAGE_THREADS, Type.INT, 0, Range.between(0, 1024), Importance.MEDIUM,
                    "ONNX Runtime intra-op threads of the image backbone. 0 = one per core but one (at least 1): the extractor reads and decodes the next batch on another thread while one batch runs, and an operator split over every core waits on whichever core that thread holds.")
            .define(IMAGE_DIMENSION, Type.INT, 0, Range.between(0, 65_536), Importance.LOW,
                    "Width the image backbone's vectors must have; start-up fails if it differs. 0 = no check.");

    public ExtractorConfig(Map<String, ?> props) {
        super(CONFIG, props);
    }

    public String groupId() {
        return raw().getString(GROUP_ID);
    }

    public String transactionalId() {
        String id = raw().getString(TRANSACTIONAL_ID);
        return id.isEmpty() ? groupId() + "-" + hostName() : id;
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    /** The embedding cache directory, or empty when the cache is off. */
    public java.util.Optional<java.nio.file.Path> cacheDir() {
        String dir = raw().getString(CACHE_DIR).trim();
        return dir.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(java.nio.file.Path.of(dir));
    }

    public int batchMaxVectors() {
        return raw().getInt(BATCH_MAX_VECTORS);
    }

    public int batchMaxRecords() {
        return raw().getInt(BATCH_MAX_RECORDS);
    }

    public long batchMaxWaitMs() {
        return raw().getLong(BATCH_MAX_WAIT_MS);
    }

    /**
     * The backbone to load: the bundled {@code backbone.name}, or the ONNX file at
     * {@code backbone.model.path} described by the other {@code backbone.*} keys.
     *
     * @throws io.headwater.core.ConfigException if a key that describes a model file is set without
     *     {@code backbone.model.path}, or {@code backbone.name} is set with it
     */
    public BackboneSpec backboneSpec() {
        BackboneSpec.Builder spec = BackboneSpec.builder()
                .name(raw().getString(BACKBONE_NAME))
                .maxTokens(raw().getInt(BACKBONE_MAX_TOKENS))
                .batchSize(raw().getInt(BACKBONE_BATCH_SIZE))
                .intraOpThreads(raw().getInt(BACKBONE_THREADS))
                .provider(ExecutionProvider.fromConfig(raw().getString(BACKBONE_PROVIDER)))
                .deviceId(raw().getInt(BACKBONE_DEVICE_ID));
        if (raw().getInt(BACKBONE_DIMENSION) > 0) {
            spec.dimension(raw().getInt(BACKBONE_DIMENSION));
        }
        String modelPath = raw().getString(BACKBONE_MODEL_PATH).trim();
        if (modelPath.isEmpty()) {
            for (String key : USER_MODEL_KEYS) {
                if (raw().originals().containsKey(key)) {
                    throw new io.headwater.core.ConfigException(key + " applies only to a model loaded from "
                            + BACKBONE_MODEL_PATH + ", which is not set; found " + key + "="
                            + raw().originals().get(key));
                }
            }
            return spec.build();
        }
        if (raw().originals().containsKey(BACKBONE_NAME)) {
            throw new io.headwater.core.ConfigException(BACKBONE_NAME + " picks a bundled backbone and cannot be "
                    + "combined with " + BACKBONE_MODEL_PATH + "=" + modelPath + "; name that model with "
                    + BACKBONE_MODEL_ID + ", found " + BACKBONE_NAME + "=" + raw().originals().get(BACKBONE_NAME));
        }
        java.nio.file.Path model = java.nio.file.Path.of(modelPath);
        String tokenizer = raw().getString(BACKBONE_TOKENIZER_PATH).trim();
        UserModel.Builder user = UserModel.builder(model,
                        tokenizer.isEmpty() ? model.resolveSibling("tokenizer.json") : java.nio.file.Path.of(tokenizer))
                .pooling(PoolingMode.valueOf(raw().getString(BACKBONE_POOLING).trim().toUpperCase(java.util.Locale.ROOT)))
                .rowsInteract(raw().getBoolean(BACKBONE_ROW_BY_ROW))
                .names(new TensorNames(raw().getString(BACKBONE_INPUT_IDS_NAME),
                        raw().getString(BACKBONE_ATTENTION_MASK_NAME), raw().getString(BACKBONE_TOKEN_TYPE_IDS_NAME),
                        raw().getString(BACKBONE_OUTPUT_NAME)));
        String id = raw().getString(BACKBONE_MODEL_ID).trim();
        if (!id.isEmpty()) {
            user.id(id);
        }
        return spec.userModel(user.build()).build();
    }

    /**
     * The task ids embedded by the image backbone ({@code backbone.image.tasks}), if one is configured.
     *
     * @throws io.headwater.core.ConfigException if the value is not a regular expression
     */
    public java.util.Optional<java.util.regex.Pattern> imageTasks() {
        String regex = raw().getString(IMAGE_TASKS).trim();
        if (regex.isEmpty()) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(java.util.regex.Pattern.compile(regex));
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new io.headwater.core.ConfigException(IMAGE_TASKS + " must be a regular expression, found '" + regex
                    + "': " + e.getDescription(), e);
        }
    }

    /**
     * ONNX Runtime intra-op threads of the image backbone: {@code backbone.image.threads}, or for 0
     * one per core but one, left to the consumer thread that decodes the next batch meanwhile.
     */
    public int imageThreads() {
        int configured = raw().getInt(IMAGE_THREADS);
        return configured > 0 ? configured : Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    /**
     * The image backbone to load for {@link #imageTasks()}: the bundled {@code backbone.image.name}
     * or the ONNX file at {@code backbone.image.model.path}, on {@code backbone.provider}.
     *
     * @throws io.headwater.core.ConfigException naming the key and value of a bad setting
     */
    public ImageBackboneSpec imageBackboneSpec() {
        ImageBackboneSpec.Builder spec = ImageBackboneSpec.builder()
                .name(raw().getString(IMAGE_NAME).trim())
                .resize(ImageResize.fromConfig(IMAGE_RESIZE, raw().getString(IMAGE_RESIZE)))
                .convertChannels(raw().getBoolean(IMAGE_CONVERT_CHANNELS))
                .maxBytes(raw().getInt(IMAGE_MAX_BYTES))
                .maxPixels(raw().getLong(IMAGE_MAX_PIXELS))
                .normalize(raw().getBoolean(IMAGE_NORMALIZE))
                .batchSize(raw().getInt(IMAGE_BATCH_SIZE))
                .intraOpThreads(imageThreads())
                .provider(ExecutionProvider.fromConfig(raw().getString(BACKBONE_PROVIDER)))
                .deviceId(raw().getInt(BACKBONE_DEVICE_ID));
        String path = raw().getString(IMAGE_MODEL_PATH).trim();
        if (!path.isEmpty()) {
            if (raw().originals().containsKey(IMAGE_NAME)) {
                throw new io.headwater.core.ConfigException(IMAGE_NAME + " picks a bundled image backbone and cannot "
                        + "be combined with " + IMAGE_MODEL_PATH + "=" + path + "; found " + IMAGE_NAME + "="
                        + raw().originals().get(IMAGE_NAME));
            }
            spec.modelPath(java.nio.file.Path.of(path));
        }
        optional(IMAGE_MODEL_ID).ifPresent(spec::modelId);
        optional(IMAGE_INPUT_NAME).ifPresent(spec::inputName);
        optional(IMAGE_OUTPUT_NAME).ifPresent(spec::outputName);
        optional(IMAGE_POOLING).ifPresent(v -> spec.pooling(ImagePooling.fromConfig(IMAGE_POOLING, v)));
        optional(IMAGE_LAYOUT).ifPresent(v -> spec.channelsFirst(v.equalsIgnoreCase("nchw")));
        optional(IMAGE_SIZE).ifPresent(v -> {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,5})(?:\\s*[xX]\\s*(\\d{1,5}))?").matcher(v);
            if (!m.matches()) {
                throw new io.headwater.core.ConfigException(IMAGE_SIZE + " must be HEIGHTxWIDTH or one number, found '"
                        + v + "'");
            }
            int h = Integer.parseInt(m.group(1));
            spec.size(h, m.group(2) == null ? h : Integer.parseInt(m.group(2)));
        });
        numbers(IMAGE_MEAN).ifPresent(spec::mean);
        numbers(IMAGE_STD).ifPresent(spec::std);
        if (raw().getInt(IMAGE_DIMENSION) > 0) {
            spec.dimension(raw().getInt(IMAGE_DIMENSION));
        }
        return spec.build();
    }

    private java.util.Optional<String> optional(String key) {
        String v = raw().getString(key).trim();
        return v.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(v);
    }

    private java.util.Optional<double[]> numbers(String key) {
        java.util.List<String> values = raw().getList(key);
        if (values.isEmpty()) {
            return java.util.Optional.empty();
        }
        double[] out = new double[values.size()];
        for (int i = 0; i < out.length; i++) {
            try {
                out[i] = Double.parseDouble(values.get(i).trim());
            } catch (NumberFormatException e) {
                throw new io.headwater.core.ConfigException(key + " must be a list of numbers, found '"
                        + String.join(",", values) + "'", e);
            }
        }
        return java.util.Optional.of(out);
    }
}
