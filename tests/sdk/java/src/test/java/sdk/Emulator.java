package sdk;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

/** What every SDK test shares: the emulator's URL, its control plane, a webhook receiver. */
final class Emulator {
    static final String BASE = base();
    static final URI URL = URI.create(BASE);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    private Emulator() {}

    private static String base() {
        String url = System.getenv("CALLERID_MOCK_URL");
        if (url == null || url.isEmpty()) {
            throw new IllegalStateException("CALLERID_MOCK_URL is not set: run tests/sdk/run.sh");
        }
        return url;
    }

    /** GETs a control-plane route, or POSTs {@code body} to it as JSON. */
    static JsonNode control(String path, Object body) {
        try {
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(BASE + path));
            if (body != null) {
                req.header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            }
            return JSON.readTree(HTTP.send(req.build(), HttpResponse.BodyHandlers.ofString()).body());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("control " + path + ": " + e, e);
        }
    }

    static JsonNode control(String path) {
        return control(path, null);
    }

    /** One request a receiver got. */
    record Received(String method, String path, Map<String, List<String>> headers, String body) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    /** A webhook receiver on a free port: records every request and answers 200. */
    static final class Receiver implements AutoCloseable {
        private final HttpServer server;
        private final List<Received> got = new ArrayList<>();

        Receiver() throws IOException {
            this("");
        }

        /** A receiver that answers with {@code document} (XML) when it is not empty. */
        Receiver(String document) throws IOException {
            byte[] answer = document.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            server = HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", exchange -> {
                String body = new String(exchange.getRequestBody().readAllBytes());
                synchronized (got) {
                    got.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().toString(),
                            exchange.getRequestHeaders(), body));
                }
                if (answer.length == 0) {
                    exchange.sendResponseHeaders(200, -1);
                } else {
                    exchange.getResponseHeaders().set("Content-Type", "application/xml");
                    exchange.sendResponseHeaders(200, answer.length);
                    exchange.getResponseBody().write(answer);
                }
                exchange.close();
            });
            server.start();
        }

        String url(String path) {
            return "http://127.0.0.1:" + server.getAddress().getPort() + path;
        }

        /** Waits up to 5 s for {@code n} requests; fails saying what came. */
        List<Received> waitFor(int n) throws InterruptedException {
            for (long end = System.nanoTime() + 5_000_000_000L; System.nanoTime() < end; Thread.sleep(10)) {
                synchronized (got) {
                    if (got.size() >= n) {
                        return new ArrayList<>(got);
                    }
                }
            }
            throw new AssertionError("expected " + n + " callback(s) at " + url("") + " within 5 s, got "
                    + got.size() + "; the journal says " + control("/_mock/callbacks?limit=3").get("callbacks"));
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
