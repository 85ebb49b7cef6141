package io.github.calleridmock.testcontainers;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * callerid-mock in a container:
 *
 * <pre>{@code
 * try (CallerIdMockContainer mock = new CallerIdMockContainer().withSeed(1).withFrozenClock()) {
 *     mock.start();
 *     // point an SDK at mock.getProviderUrl("twilio")
 *     String code = mock.latestCode("+14158675309", Duration.ofSeconds(5));
 * }
 * }</pre>
 *
 * <p>The image is {@code callerid-mock:VERSION} ({@link #VERSION}; {@code docker build -t
 * callerid-mock:VERSION .} in the repository makes it), or {@code $CALLERID_MOCK_IMAGE}, or the
 * constructor's argument. The container is ready when {@code GET /_mock/health} answers 200.
 * Webhooks reach the test process at {@code host.docker.internal} (the host's gateway): listen on
 * 0.0.0.0 and give {@link #hostUrl(int, String)} as the callback URL.
 */
public class CallerIdMockContainer extends GenericContainer<CallerIdMockContainer> {
    /** The release whose image the container starts by default. */
    public static final String VERSION = "0.1.0";
    /** The port the server listens on inside the container. */
    public static final int PORT = 8484;

    private static final Map<String, String> PROVIDER_PATHS = Map.of(
            "plivo", "", "twilio", "", "seven", "/api", "telnyx", "/v2", "signalwire", "/api/relay/rest");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> flags = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
    private String adminToken;

    /** {@code $CALLERID_MOCK_IMAGE}, else {@code callerid-mock:VERSION}. */
    public static String defaultImage() {
        String image = System.getenv("CALLERID_MOCK_IMAGE");
        return image == null || image.isEmpty() ? "callerid-mock:" + VERSION : image;
    }

    public CallerIdMockContainer() {
        this(defaultImage());
    }

    public CallerIdMockContainer(String image) {
        super(DockerImageName.parse(image));
        withExposedPorts(PORT);
        withExtraHost("host.docker.internal", "host-gateway");
        waitingFor(Wait.forLogMessage(".*listening on.*\\n", 1).withStartupTimeout(Duration.ofSeconds(60)));
    }

    /** Command-line words as they are: {@code withFlag("--ring-time", "3s")}. */
    public CallerIdMockContainer withFlag(String... words) {
        flags.addAll(List.of(words));
        return this;
    }

    /** Deterministic ids and codes. */
    public CallerIdMockContainer withSeed(long seed) {
        return withFlag("--seed", Long.toString(seed));
    }

    /** The clock moves only when a test advances it. */
    public CallerIdMockContainer withFrozenClock() {
        return withFlag("--frozen-clock");
    }

    /** The clock's start (RFC 3339). */
    public CallerIdMockContainer withStartTime(String rfc3339) {
        return withFlag("--start-time", rfc3339);
    }

    /** Every validation and outbound call answers itself. */
    public CallerIdMockContainer withAutoAnswer() {
        return withFlag("--auto-answer");
    }

    /** Only the accounts and tokens of {@code fixtures}, a state file on the host copied in. */
    public CallerIdMockContainer withStrictAuth(Path fixtures) {
        withCopyFileToContainer(MountableFile.forHostPath(fixtures, 0644), "/fixtures.json");
        return withFlag("--strict-auth", "--fixtures", "/fixtures.json");
    }

    /** The control plane needs this token; the control methods send it. */
    public CallerIdMockContainer withAdminToken(String token) {
        adminToken = token;
        return withEnv("CALLERID_MOCK_ADMIN_TOKEN", token);
    }

    @Override
    protected void configure() {
        setCommand(flags.toArray(new String[0]));
    }

    /** The banner, then {@code /_mock/health} (with the admin token) answers 200. */
    @Override
    protected void containerIsStarted(com.github.dockerjava.api.command.InspectContainerResponse info) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                call("GET", "/_mock/health", null);
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("callerid-mock in " + getDockerImageName() + " is not healthy: " + e.getMessage(), e);
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** {@code http://HOST:PORT}, the mapped port: the base of every provider's API and of {@code /_mock/}. */
    public String getUrl() {
        return "http://" + getHost() + ":" + getMappedPort(PORT);
    }

    /** The base URL an SDK of {@code provider} is pointed at ({@code "telnyx"}: the URL and {@code /v2}). */
    public String getProviderUrl(String provider) {
        String path = PROVIDER_PATHS.get(provider);
        if (path == null) {
            throw new IllegalArgumentException("unknown provider \"" + provider + "\"; one of " + PROVIDER_PATHS.keySet());
        }
        return getUrl() + path;
    }

    /** A URL of the test process as the container reaches it (for webhooks). */
    public static String hostUrl(int port, String path) {
        return "http://host.docker.internal:" + port + path;
    }

    /** An error answer of the control plane: its status and body. */
    public static class ControlException extends RuntimeException {
        public final int status;
        public final JsonNode body;

        ControlException(String route, int status, JsonNode body) {
            super(route + ": " + status + " " + (body != null && body.has("error") ? body.get("error").asText() : String.valueOf(body)));
            this.status = status;
            this.body = body;
        }
    }

    /** A control-plane request: GET, or {@code method} with a JSON body; the JSON answer. */
    public JsonNode call(String method, String route, Object body) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(getUrl() + route)).timeout(Duration.ofSeconds(90));
            if (adminToken != null) {
                request.header("Authorization", "Bearer " + adminToken);
            }
            if (body == null) {
                request.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                request.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            }
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode parsed = response.body().isEmpty() ? null : JSON.readTree(response.body());
            if (response.statusCode() >= 300) {
                throw new ControlException(route, response.statusCode(), parsed);
            }
            return parsed;
        } catch (IOException e) {
            throw new IllegalStateException(route + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(route + ": interrupted", e);
        }
    }

    private static String query(Map<String, String> params) {
        StringBuilder out = new StringBuilder();
        params.forEach((k, v) -> {
            if (v != null) {
                out.append(out.length() == 0 ? '?' : '&').append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
            }
        });
        return out.toString();
    }

    /** Every code sent, newest first. */
    public JsonNode codes() {
        return call("GET", "/_mock/codes", null).get("codes");
    }

    /** The newest code sent to {@code number}; a {@code wait} waits that long for one. */
    public String latestCode(String number, Duration wait) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("number", number);
        params.put("wait", wait == null ? null : wait.toMillis() + "ms");
        return call("GET", "/_mock/codes/latest" + query(params), null).get("code").asText();
    }

    /** Plays the person on the phone: keys in {@code digits}. */
    public JsonNode answer(String callId, String digits) {
        return call("POST", "/_mock/calls/" + URLEncoder.encode(callId, StandardCharsets.UTF_8) + "/answer", Map.of("digits", digits));
    }

    /** Ends a ringing call with {@code outcome}: {@code busy}, {@code no-answer}, {@code failed}. */
    public JsonNode answerWithOutcome(String callId, String outcome) {
        return call("POST", "/_mock/calls/" + URLEncoder.encode(callId, StandardCharsets.UTF_8) + "/answer", Map.of("outcome", outcome));
    }

    /** Moves the server clock: {@code advance("16m")}. */
    public JsonNode advance(String by) {
        return call("POST", "/_mock/clock", Map.of("advance", by));
    }

    /** Wipes all state, or one account's ({@code null} for all). */
    public JsonNode reset(String account) {
        return call("POST", "/_mock/reset" + query(account == null ? Map.of() : Map.of("account", account)), Map.of());
    }

    /** Adds a fault rule: {@code Map.of("provider", "twilio", "operation", "list", "action", "error", "status", 503)}. */
    public JsonNode addFault(Map<String, Object> rule) {
        return call("POST", "/_mock/faults", rule);
    }

    /** The webhook journal, newest first. */
    public JsonNode callbacks() {
        return call("GET", "/_mock/callbacks", null).get("callbacks");
    }

    /** The request journal, newest first. */
    public JsonNode requests() {
        return call("GET", "/_mock/requests", null).get("requests");
    }

    /**
     * The JVM's system properties that route unmodified SDKs through this container's proxy: the
     * proxy, the hosts reached directly, and a trust store in {@code dir} holding the JVM's own
     * roots and the container's CA (from {@code /_mock/ca.pem}). Set them before the JVM makes its
     * first TLS connection (it reads the trust store once), or pass them to a new JVM.
     */
    public Map<String, String> zeroTouchSystemProperties(Path dir) throws Exception {
        HttpResponse<InputStream> pem = http.send(HttpRequest.newBuilder(URI.create(getUrl() + "/_mock/ca.pem")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        Certificate ca;
        try (InputStream in = pem.body()) {
            ca = CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore store = KeyStore.getInstance("JKS");
        Path cacerts = Path.of(System.getProperty("java.home"), "lib", "security", "cacerts");
        try (InputStream in = Files.newInputStream(cacerts)) {
            store.load(in, "changeit".toCharArray());
        }
        store.setCertificateEntry("callerid-mock", ca);
        Path file = dir.resolve("truststore.jks");
        try (var out = Files.newOutputStream(file)) {
            store.store(out, "changeit".toCharArray());
        }
        String port = Integer.toString(getMappedPort(PORT));
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("https.proxyHost", getHost());
        properties.put("https.proxyPort", port);
        properties.put("http.proxyHost", getHost());
        properties.put("http.proxyPort", port);
        properties.put("http.nonProxyHosts", "localhost|127.0.0.1|[::1]|" + getHost());
        properties.put("javax.net.ssl.trustStore", file.toString());
        properties.put("javax.net.ssl.trustStorePassword", "changeit");
        properties.put("javax.net.ssl.trustStoreType", "JKS");
        return properties;
    }
}
