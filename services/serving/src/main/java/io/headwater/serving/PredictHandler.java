package io.headwater.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.headwater.backbone.Embedder;
import io.headwater.backbone.ImageBackbone;
import io.headwater.backbone.InvalidImage;
import io.headwater.client.ModelClient;
import io.headwater.client.Prediction;
import io.headwater.kafka.HttpEndpoint;
import io.headwater.kafka.Json;
import io.headwater.kafka.MetricsServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /predict}: {@code {"task": "spam", "text": "..."}} or {@code {"task": "spam", "texts":
 * ["...", "..."]}} gives {@code {"task", "version", "predictions": [{"label", "scores": {label: p}}]}}.
 * A task is embedded by its backbone, routed as the extractor routes ({@link TaskBackbone}: named
 * backbones, then the image backbone, else the default). For an image task the request carries
 * {@code "image"} (a base64 PNG or JPEG) or {@code "images"} instead; an image that cannot be used is
 * a 400 naming which and why, and a request of the other kind is a 400 naming the routing setting.
 * All texts of one request are predicted by one model version; the texts of concurrent requests
 * are embedded together ({@link EmbeddingBatcher}).
 * 400 for a malformed request, 404 while the task has no version, 405 for other methods, 413 for a
 * body over {@code serving.request.max.bytes}, 500 (with no exception text; the log has it) when
 * embedding or predicting fails.
 */
public final class PredictHandler implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(PredictHandler.class);
    private final List<Side> rules;
    private final Side fallback;
    private final MeterRegistry registry;
    private final Timer latency;
    private final int maxBytes;

    /**
     * One backbone's side of serving: the setting that routes tasks to it ({@code rule}), its tasks
     * (empty for the default backbone, which takes every task no rule matches), the client that
     * follows their versions, and for a text backbone the batcher of concurrent requests' texts.
     */
    record Side(String rule, Embedder backbone, Optional<Pattern> tasks, ModelClient client,
                Optional<EmbeddingBatcher> batcher) implements AutoCloseable {
        boolean serves(String task) {
            return tasks.isPresent() && tasks.get().matcher(task).matches();
        }

        boolean images() {
            return backbone instanceof ImageBackbone;
        }

        @Override
        public void close() {
            batcher.ifPresent(EmbeddingBatcher::close);
            client.close();
        }
    }

    PredictHandler(List<Side> rules, Side fallback, MeterRegistry registry, int maxBytes) {
        this.rules = List.copyOf(rules);
        this.fallback = fallback;
        this.registry = registry;
        this.maxBytes = maxBytes;
        this.latency = Timer.builder("headwater.serving.latency").description("Time to answer a /predict request")
                .publishPercentileHistogram().register(registry);
    }

    /** The side that serves {@code task}: the first rule that matches it, else the default. */
    static Side route(List<Side> rules, Side fallback, String task) {
        for (Side s : rules) {
            if (s.serves(task)) {
                return s;
            }
        }
        return fallback;
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        long t0 = System.nanoTime();
        int status;
        String body;
        try {
            Optional<byte[]> request = Optional.empty();
            if (!"POST".equals(ex.getRequestMethod())) {
                status = 405;
                body = error("use POST with a JSON body");
            } else if ((request = HttpEndpoint.readBody(ex, maxBytes)).isEmpty()) {
                status = 413;
                body = error("request body over " + maxBytes + " bytes (serving.request.max.bytes)");
                ex.getResponseHeaders().set("Connection", "close");
            } else {
                Answer a = answer(request.get());
                status = a.status();
                body = a.body();
            }
        } catch (RuntimeException e) {
            LOG.warn("/predict failed", e);
            status = 500;
            body = error("internal error; the serving log has the cause");
        }
        Counter.builder("headwater.serving.requests").description("/predict requests by HTTP status")
                .tag("status", Integer.toString(status)).register(registry).increment();
        MetricsServer.respond(ex, status, "application/json", body);
        latency.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private record Answer(int status, String body) {
    }

    Answer answer(byte[] request) {
        JsonNode req;
        try {
            req = Json.MAPPER.readTree(request);
        } catch (JsonProcessingException e) {
            // Where, not the parser's message, which quotes the request back.
            return new Answer(400, error("request is not valid JSON" + (e.getLocation() == null ? "" : " (line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")")));
        } catch (IOException e) {
            return new Answer(400, error("cannot read the request"));
        }
        if (req == null || !req.isObject() || !req.path("task").isTextual()) {
            return new Answer(400, error("request needs a \"task\" and a \"text\" or \"texts\""));
        }
        String task = req.get("task").asText();
        Side side = route(rules, fallback, task);
        return side.images() ? answerImages(task, req, side) : answerTexts(task, req, side);
    }

    private Answer answerTexts(String task, JsonNode req, Side side) {
        if ((req.has("image") || req.has("images")) && !req.has("text") && !req.has("texts")) {
            return new Answer(400, error("task '" + task + "' takes texts (" + (side.tasks().isPresent() ? side.rule()
                    : "it matches no image backbone's tasks") + "): the request needs \"text\" or \"texts\", "
                    + "not \"image\""));
        }
        List<String> texts = new ArrayList<>();
        if (req.path("text").isTextual() && !req.has("texts")) {
            texts.add(req.get("text").asText());
        } else if (req.path("texts").isArray() && !req.has("text") && !req.get("texts").isEmpty()) {
            for (JsonNode t : req.get("texts")) {
                if (!t.isTextual()) {
                    return new Answer(400, error("\"texts\" must be an array of strings"));
                }
                texts.add(t.asText());
            }
        } else {
            return new Answer(400, error("request needs exactly one of \"text\" (a string) or \"texts\" (a non-empty array)"));
        }
        if (side.client().current(task).isEmpty()) {
            return new Answer(404, error("no model version for task '" + task + "' yet"));
        }
        return predictions(task, side.client().predict(task, side.batcher().orElseThrow().embed(texts)));
    }

    private Answer answerImages(String task, JsonNode req, Side side) {
        List<String> encoded = new ArrayList<>();
        if (req.path("image").isTextual() && !req.has("images")) {
            encoded.add(req.get("image").asText());
        } else if (req.path("images").isArray() && !req.has("image") && !req.get("images").isEmpty()) {
            for (JsonNode t : req.get("images")) {
                if (!t.isTextual()) {
                    return new Answer(400, error("\"images\" must be an array of base64 strings"));
                }
                encoded.add(t.asText());
            }
        } else {
            return new Answer(400, error("task '" + task + "' takes images (" + side.rule() + "): the request needs "
                    + "exactly one of \"image\" (a base64 PNG or JPEG) or \"images\" (a non-empty array)"));
        }
        if (side.client().current(task).isEmpty()) {
            return new Answer(404, error("no model version for task '" + task + "' yet"));
        }
        ImageBackbone image = (ImageBackbone) side.backbone();
        List<float[]> tensors = new ArrayList<>(encoded.size());
        for (int i = 0; i < encoded.size(); i++) {
            try {
                tensors.add(image.preprocessor().tensor(Base64.getDecoder().decode(encoded.get(i))));
            } catch (IllegalArgumentException e) {
                return new Answer(400, error("image " + i + " is not valid base64"));
            } catch (InvalidImage e) {
                return new Answer(400, Json.MAPPER.createObjectNode().put("error", "image " + i + ": " + e.getMessage())
                        .put("reason", e.kind()).toString());
            }
        }
        return predictions(task, side.client().predict(task, image.embed(tensors)));
    }

    private static Answer predictions(String task, Optional<List<Prediction>> predictions) {
        if (predictions.isEmpty()) {
            return new Answer(404, error("no model version for task '" + task + "' yet"));
        }
        ObjectNode out = Json.MAPPER.createObjectNode().put("task", task)
                .put("version", predictions.get().get(0).version());
        ArrayNode list = out.putArray("predictions");
        for (Prediction p : predictions.get()) {
            ObjectNode item = list.addObject().put("label", p.label());
            ObjectNode scores = item.putObject("scores");
            for (int i = 0; i < p.labels().size(); i++) {
                scores.put(p.labels().get(i), p.probabilities()[i]);
            }
        }
        return new Answer(200, out.toString());
    }

    private static String error(String message) {
        return Json.MAPPER.createObjectNode().put("error", message).toString();
    }
}
