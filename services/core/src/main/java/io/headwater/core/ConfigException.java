package io.headwater.core;

/** A configuration value is missing or invalid; the message names the key and the value. */
public class ConfigException extends HeadwaterException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
