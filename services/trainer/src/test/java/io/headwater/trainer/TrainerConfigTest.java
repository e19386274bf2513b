package io.headwater.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.headwater.core.ConfigException;
import io.headwater.core.HeadOptions;
import io.headwater.core.HeadType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerConfigTest {

    @Test
    void shouldDefaultToTheMeasuredHeadOptions() {
        HeadOptions options = new TrainerConfig(Map.of()).headOptions();
        assertThat(options).isEqualTo(HeadOptions.defaults());
    }

    @Test
    void shouldReadSgdAndReplaySettings() {
        // given
        TrainerConfig config = new TrainerConfig(Map.of(
                TrainerConfig.HEAD_TYPE, "sgd",
                TrainerConfig.SGD_HIDDEN, "64, 32",
                TrainerConfig.SGD_LEARNING_RATE, "0.01",
                TrainerConfig.SGD_L2, "0",
                TrainerConfig.SGD_BATCH_SIZE, "8",
                TrainerConfig.SGD_SEED, "9",
                TrainerConfig.REPLAY_CAPACITY, "100",
                TrainerConfig.REPLAY_RATIO, "0.25",
                TrainerConfig.LDA_FORGET, "0.5"));
        // when
        HeadOptions options = config.headOptions();
        // then
        assertThat(config.headType()).isEqualTo(HeadType.SGD);
        assertThat(options.sgd()).isEqualTo(new HeadOptions.SgdOptions(List.of(64, 32), 0.01, 0, 8, 9, 100, 0.25,
                HeadOptions.SgdOptions.DEFAULT_DRIFT_BOOST, HeadOptions.SgdOptions.DEFAULT_DRIFT_BOOST_EXAMPLES));
        assertThat(options.sgd().newPerBatch()).isEqualTo(6);
        assertThat(options.ldaForget()).isEqualTo(0.5);
        assertThat(config.headType().create(16, options).type()).isEqualTo(HeadType.SGD);
    }

    @Test
    void shouldAcceptNoHiddenLayers() {
        TrainerConfig config = new TrainerConfig(Map.of(TrainerConfig.SGD_HIDDEN, ""));
        assertThat(config.headOptions().sgd().hidden()).isEmpty();
    }

    @Test
    void shouldNameKeyAndValueOfBadSettings() {
        assertThatThrownBy(() -> new TrainerConfig(Map.of(TrainerConfig.SGD_HIDDEN, "64,x")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("trainer.sgd.hidden").hasMessageContaining("'x' is not a layer size");
        assertThatThrownBy(() -> new TrainerConfig(Map.of(TrainerConfig.REPLAY_RATIO, "1.5")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("trainer.replay.ratio").hasMessageContaining("1.5");
        assertThatThrownBy(() -> new TrainerConfig(Map.of(TrainerConfig.SGD_BATCH_SIZE, "0")))
                .hasMessageContaining("trainer.sgd.batch.size").hasMessageContaining("0");
        assertThatThrownBy(() -> new TrainerConfig(Map.of(TrainerConfig.REPLAY_CAPACITY, "100000")))
                .hasMessageContaining("trainer.replay.capacity");
        assertThatThrownBy(() -> new TrainerConfig(Map.of(TrainerConfig.HEAD_TYPE, "svm")))
                .hasMessageContaining("trainer.head.type").hasMessageContaining("svm");
    }
}
