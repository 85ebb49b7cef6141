package io.github.calleridmock.testcontainers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import com.sun.net.httpserver.HttpServer;
import com.twilio.exception.ApiException;
import com.twilio.http.NetworkHttpClient;
import com.twilio.http.TwilioRestClient;
import com.twilio.rest.api.v2010.account.Call;
import com.twilio.rest.api.v2010.account.OutgoingCallerId;
import com.twilio.rest.api.v2010.account.ValidationRequest;
import com.twilio.security.RequestValidator;
import com.twilio.type.PhoneNumber;
import com.twilio.type.Twiml;
import org.apache.hc.client5.http.HttpRoute;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.core5.http.HttpHost;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * CallerIdMockContainer against a real Docker engine: zero-touch with twilio-java at production
 * settings through the container's proxy (first: the JVM reads its trust store once), the official
 * SDK's flow with its base URL at the container and the StatusCallback delivered back to this JVM,
 * the control plane as methods, strict auth with fixtures copied in and an admin token. Run by
 * tests/testcontainers/run.sh (which builds the image and exports CALLERID_MOCK_IMAGE, DOCKER_HOST
 * and TESTCONTAINERS_RYUK_DISABLED).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CallerIdMockContainerTest {
    static final String SID = "AC2222222222222222222222222222222a";
    static final String TOKEN = "javatestcontainers";

    static CallerIdMockContainer mock;

    @BeforeAll
    static void start() {
        long started = System.nanoTime();
        // docs:begin java
        mock = new CallerIdMockContainer().withSeed(7).withFrozenClock();
        mock.start();
        // docs:end java
        System.out.printf("testcontainers: java: ready in %.2f s%n", (System.nanoTime() - started) / 1e9);
    }

    @AfterAll
    static void stop() {
        mock.stop();
    }

    /** twilio-java pointed at the container (its documented custom HTTP client). */
    static TwilioRestClient twilioAt(CallerIdMockContainer target, String sid, String token) {
        URI url = URI.create(target.getProviderUrl("twilio"));
        HttpHost host = new HttpHost(url.getScheme(), url.getHost(), url.getPort());
        HttpClientBuilder routed = HttpClientBuilder.create().setRoutePlanner((t, context) -> new HttpRoute(host));
        return new TwilioRestClient.Builder(sid, token).httpClient(new NetworkHttpClient(routed)).build();
    }

    @Test
    @Order(1)
    void zeroTouchWithProductionSettings(@TempDir Path dir) throws Exception {
        Map<String, String> properties = mock.zeroTouchSystemProperties(dir);
        properties.forEach(System::setProperty);
        try {
            TwilioRestClient production = new TwilioRestClient.Builder("AC1111111111111111111111111111111a", "zero").build();
            ApiException refused = assertThrows(ApiException.class, () -> Call.creator(new PhoneNumber("+14155550100"),
                    new PhoneNumber("+14158675309"), new Twiml("<Response/>")).create(production));
            assertEquals(21210, refused.getCode(), "the unverified From, refused by the emulator as api.twilio.com");
        } finally {
            for (String name : List.of("https.proxyHost", "https.proxyPort", "http.proxyHost", "http.proxyPort")) {
                System.clearProperty(name);
            }
        }
    }

    @Test
    @Order(2)
    void aTwilioFlowAndItsSignedStatusCallback() throws Exception {
        List<String> bodies = new CopyOnWriteArrayList<>();
        List<String> signatures = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("0.0.0.0", 0), 0);
        receiver.createContext("/", exchange -> {
            bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            signatures.add(exchange.getRequestHeaders().getFirst("X-Twilio-Signature"));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        try {
            TwilioRestClient client = twilioAt(mock, SID, TOKEN);
            String callback = CallerIdMockContainer.hostUrl(receiver.getAddress().getPort(), "/status");
            ValidationRequest vr = ValidationRequest.creator(new PhoneNumber("+14158675309"))
                    .setStatusCallback(URI.create(callback)).create(client);
            mock.answer(vr.getCallSid(), vr.getValidationCode());
            List<String> numbers = new ArrayList<>();
            OutgoingCallerId.reader().read(client).forEach(c -> numbers.add(c.getPhoneNumber().toString()));
            assertEquals(List.of("+14158675309"), numbers);
            for (int i = 0; i < 200 && bodies.isEmpty(); i++) {
                Thread.sleep(50);
            }
            assertTrue(!bodies.isEmpty(), "no StatusCallback came; the journal says " + mock.callbacks());
            Map<String, String> params = new HashMap<>();
            for (String pair : bodies.get(0).split("&")) {
                String[] kv = pair.split("=", 2);
                params.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
            }
            assertEquals("success", params.get("VerificationStatus"));
            assertTrue(new RequestValidator(TOKEN).validate(callback, params, signatures.get(0)));
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    @Order(3)
    void theControlPlaneAsMethods() {
        mock.reset(null);
        CallerIdMockContainer.ControlException missing = assertThrows(CallerIdMockContainer.ControlException.class,
                () -> mock.latestCode("+12025550000", Duration.ofMillis(100)));
        assertEquals(404, missing.status);
        assertTrue(missing.getMessage().contains("+12025550000"), missing.getMessage());
        java.time.Instant before = java.time.Instant.parse(mock.advance("0s").get("now").asText());
        assertEquals(before.plusSeconds(60), java.time.Instant.parse(mock.advance("1m").get("now").asText()), "a frozen clock moves only when told");
        // Apache's HTTP client retries a 503: the rule answers every attempt.
        mock.addFault(Map.of("provider", "twilio", "operation", "list", "action", "error", "status", 503, "times", 10));
        ApiException unavailable = assertThrows(ApiException.class, () -> OutgoingCallerId.reader().read(twilioAt(mock, SID, TOKEN)).iterator().hasNext());
        assertEquals(503, unavailable.getStatusCode());
        assertEquals(503, mock.requests().get(0).get("status").asInt());
        mock.call("DELETE", "/_mock/faults", null);
    }

    @Test
    @Order(4)
    void strictAuthWithFixturesAndAnAdminToken(@TempDir Path dir) throws IOException, InterruptedException {
        Path fixtures = dir.resolve("fixtures.json");
        Files.writeString(fixtures, "{\"accounts\":[{\"provider\":\"twilio\",\"account\":\"" + SID + "\",\"auth_token\":\"" + TOKEN + "\"}]}");
        try (CallerIdMockContainer strict = new CallerIdMockContainer().withStrictAuth(fixtures).withAdminToken("s3cret")) {
            strict.start();
            assertTrue(OutgoingCallerId.reader().read(twilioAt(strict, SID, TOKEN)).iterator().hasNext() == false);
            assertThrows(RuntimeException.class, () -> OutgoingCallerId.reader().read(twilioAt(strict, SID, "wrong")).iterator().hasNext());
            assertEquals(0, strict.codes().size(), "the control methods send the admin token");
            HttpResponse<String> plain = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build()
                    .send(HttpRequest.newBuilder(URI.create(strict.getUrl() + "/_mock/codes")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, plain.statusCode());
        }
    }
}
