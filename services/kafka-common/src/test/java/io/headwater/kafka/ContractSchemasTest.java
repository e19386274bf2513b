package io.headwater.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the services write to the external topics matches the JSON Schemas in {@code schemas/}. */
class ContractSchemasTest {
    static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
            b -> b.schemaMappers(m -> m.mapPrefix("https://headwater.dev/schemas/", "classpath:schemas/")));

    static Set<ValidationMessage> validate(String schema, Object value) {
        JsonSchema s = FACTORY.getSchema(SchemaLocation.of("https://headwater.dev/schemas/" + schema));
        JsonNode json = Json.MAPPER.valueToTree(value);
        return s.validate(json);
    }

    static ModelUpdate update(ModelUpdate.Signature signature) {
        return new ModelUpdate(ModelUpdate.FORMAT_VERSION, "spam", 3, 2, "lda", List.of("ham", "spam"),
                new BackboneRef("all-minilm-l6-v2-q", "a".repeat(64), 384),
                new ModelUpdate.Artifact("headwater.dense.v1", "b".repeat(64), 3100, "AAAA"),
                new ModelMetrics(1500, 0.97, 500, 500, 1, 1200),
                new ModelUpdate.Provenance(Map.of("0", 1499L), "headwater-trainer", "2026-11-27T18:00:00Z", "c".repeat(64)),
                "2026-11-27T18:00:01Z", ModelUpdate.PROMOTED, 0, signature);
    }

    @Test
    void shouldWriteModelUpdatesThatMatchTheirSchema() {
        assertThat(validate("model-update.schema.json", update(null))).isEmpty();
        assertThat(validate("model-update.schema.json",
                update(new ModelUpdate.Signature("Ed25519", "registry", "c2ln")))).isEmpty();
        assertThat(validate("model-update.schema.json", update(null).republish(4, 3, "sideways", "now")))
                .as("an unknown origin is caught").isNotEmpty();
    }

    @Test
    void shouldWriteDecisionsThatMatchTheirSchema() {
        ModelDecision promoted = new ModelDecision(1, "spam", 7, ModelDecision.PROMOTED, "", 3,
                new ModelDecision.Candidate("lda", new ModelMetrics(1500, 0.97, 500, 500, 0, 0), "b".repeat(64),
                        "2026-11-27T18:00:00Z", "0@12"), update(null), "gate", "2026-11-27T18:00:01Z");
        ModelDecision rejected = new ModelDecision(1, "spam", 8, ModelDecision.REJECTED,
                "gate: windowed accuracy 0.8 is worse", 0, promoted.candidate(), null, "gate", "2026-11-27T18:00:02Z");
        assertThat(validate("model-decision.schema.json", promoted)).isEmpty();
        assertThat(validate("model-decision.schema.json", rejected)).isEmpty();
        ModelDecision broken = new ModelDecision(1, "spam", 0, "maybe", "", 0, null, null, "gate", "now");
        assertThat(validate("model-decision.schema.json", broken)).hasSizeGreaterThanOrEqualTo(2);
    }
}
