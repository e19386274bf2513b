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
import java.util.function.UnaryOperator;
import org.apache.kafka.common.config.AbstractConfig;
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
    public static final String BACKBONES = "backbones";
    /** A named backbone's task pattern is {@code backbone.<name>.tasks}: see {@link #namedKey}. */
    public static final String NAMED_TASKS = "tasks";
    /** A named backbone's kind, {@code text} or {@code image}, is {@code backbone.<name>.kind}. */
    public static final String NAMED_KIND = "kind";
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
            .define(BACKBONES, Type.LIST, "", Importance.HIGH,
                    "Names of extra backbones, e.g. bge,photos. Each name N needs backbone.N.tasks (a regular expression of task ids) and may set backbone.N.kind (text or image) and any key of the default text backbone (backbone.name, backbone.model.path, backbone.threads...) or, for kind image, of the image backbone (backbone.image.model.path, backbone.image.size...) as backbone.N.SUFFIX (the same suffix), with the same default. A task goes to the first name in this list whose tasks match it, else to the image backbone if backbone.image.tasks matches it, else to the default text backbone. Empty = only the default backbones.")
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

    private static final String PREFIX = "backbone.";
    private static final String IMAGE_PREFIX = "backbone.image.";
    /** The default text backbone's keys; a named text backbone has each as backbone.<name>.<suffix>. */
    static final java.util.List<String> TEXT_KEYS = CONFIG.names().stream()
            .filter(k -> k.startsWith(PREFIX) && !k.startsWith(IMAGE_PREFIX)).sorted().toList();
    /** The image backbone's keys but its tasks; a named image backbone has each as backbone.<name>.<suffix>. */
    static final java.util.List<String> IMAGE_KEYS = CONFIG.names().stream()
            .filter(k -> k.startsWith(IMAGE_PREFIX) && !k.equals(IMAGE_TASKS)).sorted().toList();
    /**
     * Names a named backbone cannot have, since backbone.<name>.* would be the default backbones'
     * keys: "image" and the first word of every default text backbone key suffix (name, model, threads...).
     */
    public static final java.util.SortedSet<String> RESERVED_NAMES = java.util.Collections.unmodifiableSortedSet(
            java.util.stream.Stream.concat(java.util.stream.Stream.of("image"),
                    TEXT_KEYS.stream().map(k -> k.substring(PREFIX.length()).split("\\.")[0]))
            .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new)));
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");

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
        return textSpec(raw(), UnaryOperator.identity());
    }

    /**
     * A text backbone's spec from {@code values}, reading each default-backbone key {@code k} as
     * {@code key.apply(k)}: the default backbone's keys themselves, or a named backbone's.
     */
    private static BackboneSpec textSpec(AbstractConfig values, UnaryOperator<String> key) {
        BackboneSpec.Builder spec = BackboneSpec.builder()
                .name(values.getString(key.apply(BACKBONE_NAME)))
                .maxTokens(values.getInt(key.apply(BACKBONE_MAX_TOKENS)))
                .batchSize(values.getInt(key.apply(BACKBONE_BATCH_SIZE)))
                .intraOpThreads(values.getInt(key.apply(BACKBONE_THREADS)))
                .provider(ExecutionProvider.fromConfig(values.getString(key.apply(BACKBONE_PROVIDER))))
                .deviceId(values.getInt(key.apply(BACKBONE_DEVICE_ID)));
        if (values.getInt(key.apply(BACKBONE_DIMENSION)) > 0) {
            spec.dimension(values.getInt(key.apply(BACKBONE_DIMENSION)));
        }
        String modelPathKey = key.apply(BACKBONE_MODEL_PATH);
        String nameKey = key.apply(BACKBONE_NAME);
        String modelPath = values.getString(modelPathKey).trim();
        if (modelPath.isEmpty()) {
            for (String userKey : USER_MODEL_KEYS) {
                String k = key.apply(userKey);
                if (values.originals().containsKey(k)) {
                    throw new io.headwater.core.ConfigException(k + " applies only to a model loaded from "
                            + modelPathKey + ", which is not set; found " + k + "=" + values.originals().get(k));
                }
            }
            return spec.build();
        }
        if (values.originals().containsKey(nameKey)) {
            throw new io.headwater.core.ConfigException(nameKey + " picks a bundled backbone and cannot be "
                    + "combined with " + modelPathKey + "=" + modelPath + "; name that model with "
                    + key.apply(BACKBONE_MODEL_ID) + ", found " + nameKey + "=" + values.originals().get(nameKey));
        }
        java.nio.file.Path model = java.nio.file.Path.of(modelPath);
        String tokenizer = values.getString(key.apply(BACKBONE_TOKENIZER_PATH)).trim();
        UserModel.Builder user = UserModel.builder(model,
                        tokenizer.isEmpty() ? model.resolveSibling("tokenizer.json") : java.nio.file.Path.of(tokenizer))
                .pooling(PoolingMode.valueOf(values.getString(key.apply(BACKBONE_POOLING)).trim()
                        .toUpperCase(java.util.Locale.ROOT)))
                .rowsInteract(values.getBoolean(key.apply(BACKBONE_ROW_BY_ROW)))
                .names(new TensorNames(values.getString(key.apply(BACKBONE_INPUT_IDS_NAME)),
                        values.getString(key.apply(BACKBONE_ATTENTION_MASK_NAME)),
                        values.getString(key.apply(BACKBONE_TOKEN_TYPE_IDS_NAME)),
                        values.getString(key.apply(BACKBONE_OUTPUT_NAME))));
        String id = values.getString(key.apply(BACKBONE_MODEL_ID)).trim();
        if (!id.isEmpty()) {
            user.id(id);
        }
        return spec.userModel(user.build()).build();
    }

    /** {@code backbone.<name>.<suffix>}: a named backbone's key, e.g. {@code namedKey("bge", "tasks")}. */
    public static String namedKey(String name, String suffix) {
        return PREFIX + name + "." + suffix;
    }

    /**
     * The keys only a named backbone has, {@code backbone.<name>.tasks} and {@code backbone.<name>.kind};
     * the rest are the default backbones' keys under {@code backbone.<name>.}.
     */
    public static ConfigDef namedBackboneKeys(String name) {
        return new ConfigDef()
                .define(namedKey(name, NAMED_TASKS), Type.STRING, ConfigDef.NO_DEFAULT_VALUE, Importance.HIGH,
                        "A regular expression of the task ids this named backbone embeds; required for each name in "
                                + BACKBONES + ". The first name in " + BACKBONES + " whose tasks match a task wins.")
                .define(namedKey(name, NAMED_KIND), Type.STRING, "text",
                        ConfigDef.CaseInsensitiveValidString.in("text", "image"), Importance.HIGH,
                        "What the backbone embeds: text (its other keys are those of the default backbone, backbone.*, "
                                + "under this backbone's prefix) or image (those of backbone.image.* but its tasks, under "
                                + "this backbone's prefix; it runs on backbone.provider and backbone.device.id).");
    }

    /** The named text backbone key for a default text backbone key, or image backbone key. */
    private static String renamed(String name, String defaultKey) {
        return namedKey(name, defaultKey.substring((defaultKey.startsWith(IMAGE_PREFIX) ? IMAGE_PREFIX : PREFIX)
                .length()));
    }

    /**
     * The backbones named in {@code backbones}, in that order, each with its tasks and spec.
     *
     * @throws io.headwater.core.ConfigException naming the key and value of a bad setting: a name
     *     empty, reserved, malformed or listed twice, a missing or bad {@code backbone.<name>.tasks},
     *     an unknown {@code backbone.<name>.kind}, a key of the other kind, a bad value, or a
     *     {@code backbone.<name>.*} key whose name is not in {@code backbones}
     */
    public java.util.List<NamedBackbone> namedBackbones() {
        java.util.List<String> names = raw().getList(BACKBONES);
        String listed = BACKBONES + "=" + String.join(",", names);
        java.util.Set<String> seen = new java.util.LinkedHashSet<>();
        for (String name : names) {
            if (name.isBlank()) {
                throw new io.headwater.core.ConfigException(BACKBONES + " must not hold an empty name, found "
                        + listed);
            }
            if (!NAME.matcher(name).matches()) {
                throw new io.headwater.core.ConfigException(BACKBONES + " names are letters, digits, '_' and '-' "
                        + "(each becomes keys backbone.<name>.*), found '" + name + "' in " + listed);
            }
            if (RESERVED_NAMES.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                throw new io.headwater.core.ConfigException(BACKBONES + " cannot use the reserved name '" + name
                        + "': backbone." + name + ".* are the default backbones' keys (reserved: "
                        + String.join(", ", RESERVED_NAMES) + "), found " + listed);
            }
            if (!seen.add(name)) {
                throw new io.headwater.core.ConfigException(BACKBONES + " names '" + name + "' twice, found "
                        + listed);
            }
        }
        for (String key : new java.util.TreeSet<>(raw().originals().keySet())) {
            String[] parts = key.split("\\.", 3);
            if (parts.length == 3 && key.startsWith(PREFIX) && !RESERVED_NAMES.contains(parts[1])
                    && !seen.contains(parts[1])) {
                throw new io.headwater.core.ConfigException(key + " is set but '" + parts[1] + "' is not a name in "
                        + listed + "; found " + key + "=" + raw().originals().get(key));
            }
        }
        java.util.List<NamedBackbone> out = new java.util.ArrayList<>();
        for (String name : seen) {
            out.add(namedBackbone(name, listed));
        }
        return java.util.List.copyOf(out);
    }

    private NamedBackbone namedBackbone(String name, String listed) {
        String tasksKey = namedKey(name, NAMED_TASKS);
        String kindKey = namedKey(name, NAMED_KIND);
        if (!raw().originals().containsKey(tasksKey)) {
            throw new io.headwater.core.ConfigException(tasksKey + " is required for each name in " + listed
                    + ": a regular expression of the task ids backbone " + name + " embeds; found none");
        }
        AbstractConfig own = HeadwaterConfigs.parse(namedBackboneKeys(name), raw().originals());
        String regex = own.getString(tasksKey).trim();
        if (regex.isEmpty()) {
            throw new io.headwater.core.ConfigException(tasksKey + " must be a regular expression of task ids, found '"
                    + own.getString(tasksKey) + "'");
        }
        java.util.regex.Pattern tasks = regex(tasksKey, regex);
        boolean image = own.getString(kindKey).trim().equalsIgnoreCase("image");
        java.util.List<String> keys = image ? IMAGE_KEYS : TEXT_KEYS;
        java.util.Set<String> allowed = new java.util.HashSet<>(java.util.List.of(tasksKey, kindKey));
        keys.forEach(k -> allowed.add(renamed(name, k)));
        for (String key : new java.util.TreeSet<>(raw().originals().keySet())) {
            if (key.startsWith(namedKey(name, "")) && !allowed.contains(key)) {
                throw new io.headwater.core.ConfigException(key + " is not a key of " + (image ? "an image" : "a text")
                        + " backbone (" + kindKey + "=" + own.getString(kindKey) + "); found " + key + "="
                        + raw().originals().get(key));
            }
        }
        // The default backbones' definitions, each under backbone.<name>.: same type, default and validator.
        ConfigDef def = new ConfigDef(CONFIG);
        for (String k : keys) {
            ConfigDef.ConfigKey d = CONFIG.configKeys().get(k);
            def.define(renamed(name, k), d.type, d.defaultValue, d.validator, d.importance, d.documentation);
        }
        AbstractConfig values = HeadwaterConfigs.parse(def, raw().originals());
        UnaryOperator<String> key = k -> renamed(name, k);
        try {
            return image ? NamedBackbone.image(name, tasks, imageSpec(values, key))
                    : NamedBackbone.text(name, tasks, textSpec(values, key));
        } catch (io.headwater.core.ConfigException e) {
            throw renamedKeys(name, image, e);
        }
    }

    /**
     * The backbone module names the default backbones' keys in its errors ({@code backbone.model.path},
     * {@code backbone.image.size}); for a named backbone, the same error with each such key replaced
     * by the one the operator set ({@code backbone.bge.model.path}).
     */
    static io.headwater.core.ConfigException renamedKeys(String name, boolean image,
                                                         io.headwater.core.ConfigException e) {
        String message = e.getMessage();
        java.util.List<String> keys = new java.util.ArrayList<>(image ? IMAGE_KEYS : TEXT_KEYS);
        // Longest first, so that no key is replaced inside a longer one.
        keys.sort(java.util.Comparator.comparingInt(String::length).reversed());
        for (String k : keys) {
            message = message.replaceAll("(?<![\\w.])" + java.util.regex.Pattern.quote(k) + "(?![\\w.])",
                    java.util.regex.Matcher.quoteReplacement(renamed(name, k)));
        }
        return message.equals(e.getMessage()) ? e : new io.headwater.core.ConfigException(message, e);
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
        return java.util.Optional.of(regex(IMAGE_TASKS, regex));
    }

    private static java.util.regex.Pattern regex(String key, String regex) {
        try {
            return java.util.regex.Pattern.compile(regex);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new io.headwater.core.ConfigException(key + " must be a regular expression, found '" + regex
                    + "': " + e.getDescription(), e);
        }
    }

    /**
     * ONNX Runtime intra-op threads of the image backbone: {@code backbone.image.threads}, or for 0
     * one per core but one, left to the consumer thread that decodes the next batch meanwhile.
     */
    public int imageThreads() {
        return imageThreads(raw().getInt(IMAGE_THREADS));
    }

    private static int imageThreads(int configured) {
        return configured > 0 ? configured : Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    /**
     * The image backbone to load for {@link #imageTasks()}: the bundled {@code backbone.image.name}
     * or the ONNX file at {@code backbone.image.model.path}, on {@code backbone.provider}.
     *
     * @throws io.headwater.core.ConfigException naming the key and value of a bad setting
     */
    public ImageBackboneSpec imageBackboneSpec() {
        return imageSpec(raw(), UnaryOperator.identity());
    }

    /**
     * An image backbone's spec from {@code values}, reading each {@code backbone.image.*} key
     * {@code k} as {@code key.apply(k)}; provider and device are always {@code backbone.provider}
     * and {@code backbone.device.id}.
     */
    private static ImageBackboneSpec imageSpec(AbstractConfig values, UnaryOperator<String> key) {
        String nameKey = key.apply(IMAGE_NAME);
        String pathKey = key.apply(IMAGE_MODEL_PATH);
        String sizeKey = key.apply(IMAGE_SIZE);
        ImageBackboneSpec.Builder spec = ImageBackboneSpec.builder()
                .name(values.getString(nameKey).trim())
                .resize(ImageResize.fromConfig(key.apply(IMAGE_RESIZE), values.getString(key.apply(IMAGE_RESIZE))))
                .convertChannels(values.getBoolean(key.apply(IMAGE_CONVERT_CHANNELS)))
                .maxBytes(values.getInt(key.apply(IMAGE_MAX_BYTES)))
                .maxPixels(values.getLong(key.apply(IMAGE_MAX_PIXELS)))
                .normalize(values.getBoolean(key.apply(IMAGE_NORMALIZE)))
                .batchSize(values.getInt(key.apply(IMAGE_BATCH_SIZE)))
                .intraOpThreads(imageThreads(values.getInt(key.apply(IMAGE_THREADS))))
                .provider(ExecutionProvider.fromConfig(values.getString(BACKBONE_PROVIDER)))
                .deviceId(values.getInt(BACKBONE_DEVICE_ID));
        String path = values.getString(pathKey).trim();
        if (!path.isEmpty()) {
            if (values.originals().containsKey(nameKey)) {
                throw new io.headwater.core.ConfigException(nameKey + " picks a bundled image backbone and cannot "
                        + "be combined with " + pathKey + "=" + path + "; found " + nameKey + "="
                        + values.originals().get(nameKey));
            }
            spec.modelPath(java.nio.file.Path.of(path));
        }
        optional(values, key.apply(IMAGE_MODEL_ID)).ifPresent(spec::modelId);
        optional(values, key.apply(IMAGE_INPUT_NAME)).ifPresent(spec::inputName);
        optional(values, key.apply(IMAGE_OUTPUT_NAME)).ifPresent(spec::outputName);
        optional(values, key.apply(IMAGE_POOLING))
                .ifPresent(v -> spec.pooling(ImagePooling.fromConfig(key.apply(IMAGE_POOLING), v)));
        optional(values, key.apply(IMAGE_LAYOUT)).ifPresent(v -> spec.channelsFirst(v.equalsIgnoreCase("nchw")));
        optional(values, sizeKey).ifPresent(v -> {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,5})(?:\\s*[xX]\\s*(\\d{1,5}))?").matcher(v);
            if (!m.matches()) {
                throw new io.headwater.core.ConfigException(sizeKey + " must be HEIGHTxWIDTH or one number, found '"
                        + v + "'");
            }
            int h = Integer.parseInt(m.group(1));
            spec.size(h, m.group(2) == null ? h : Integer.parseInt(m.group(2)));
        });
        numbers(values, key.apply(IMAGE_MEAN)).ifPresent(spec::mean);
        numbers(values, key.apply(IMAGE_STD)).ifPresent(spec::std);
        if (values.getInt(key.apply(IMAGE_DIMENSION)) > 0) {
            spec.dimension(values.getInt(key.apply(IMAGE_DIMENSION)));
        }
        return spec.build();
    }

    private static java.util.Optional<String> optional(AbstractConfig values, String key) {
        String v = values.getString(key).trim();
        return v.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(v);
    }

    private static java.util.Optional<double[]> numbers(AbstractConfig values, String key) {
        java.util.List<String> list = values.getList(key);
        if (list.isEmpty()) {
            return java.util.Optional.empty();
        }
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            try {
                out[i] = Double.parseDouble(list.get(i).trim());
            } catch (NumberFormatException e) {
                throw new io.headwater.core.ConfigException(key + " must be a list of numbers, found '"
                        + String.join(",", list) + "'", e);
            }
        }
        return java.util.Optional.of(out);
    }
}
