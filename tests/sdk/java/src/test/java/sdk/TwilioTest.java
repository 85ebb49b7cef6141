package sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.twilio.base.Page;
import com.twilio.exception.ApiException;
import com.twilio.http.NetworkHttpClient;
import com.twilio.http.TwilioRestClient;
import com.twilio.rest.api.v2010.account.Call;
import com.twilio.rest.api.v2010.account.OutgoingCallerId;
import com.twilio.rest.api.v2010.account.ValidationRequest;
import com.twilio.security.RequestValidator;
import com.twilio.type.PhoneNumber;
import com.twilio.type.Twiml;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.HttpRoute;
import org.apache.hc.core5.http.HttpHost;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The official twilio-java SDK, unmodified, against callerid-mock. Its documented custom HTTP
 * client (a NetworkHttpClient over an Apache HttpClientBuilder) routes every request to the
 * emulator; nothing else changes.
 */
class TwilioTest {
    static final String SID = "AC4444444444444444444444444444444a";
    static final String TOKEN = "javatoken";

    TwilioRestClient client;

    @BeforeEach
    void reset() {
        Emulator.control("/_mock/reset?account=" + SID, Map.of());
        // docs:begin twilio-java
        HttpHost emulator = new HttpHost(Emulator.URL.getScheme(), Emulator.URL.getHost(), Emulator.URL.getPort());
        HttpClientBuilder routed = HttpClientBuilder.create().setRoutePlanner((target, context) -> new HttpRoute(emulator));
        client = new TwilioRestClient.Builder(SID, TOKEN).httpClient(new NetworkHttpClient(routed)).build();
        // docs:end twilio-java
    }

    static JsonNode answer(String callSid, Map<String, Object> body) {
        return Emulator.control("/_mock/calls/" + callSid + "/answer", body);
    }

    String verify(String number) {
        ValidationRequest vr = ValidationRequest.creator(new PhoneNumber(number)).create(client);
        return answer(vr.getCallSid(), Map.of("digits", vr.getValidationCode())).get("caller_id").asText();
    }

    static Map<String, String> form(String body) {
        Map<String, String> params = new HashMap<>();
        for (String pair : body.split("&")) {
            String[] kv = pair.split("=", 2);
            params.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
        }
        return params;
    }

    @Test
    void theWholeValidationFlowWithASignedCallback() throws Exception {
        try (Emulator.Receiver rx = new Emulator.Receiver()) {
            ValidationRequest vr = ValidationRequest.creator(new PhoneNumber("+14158675309"))
                    .setFriendlyName("My Home Phone").setStatusCallback(URI.create(rx.url("/status"))).create(client);
            assertEquals(SID, vr.getAccountSid());
            assertTrue(vr.getCallSid().startsWith("CA") && vr.getCallSid().length() == 34, vr.getCallSid());
            assertEquals("+14158675309", vr.getPhoneNumber().toString());
            assertEquals(6, vr.getValidationCode().length());

            JsonNode ended = answer(vr.getCallSid(), Map.of("digits", vr.getValidationCode()));
            assertEquals("verified", ended.get("state").asText());
            String pn = ended.get("caller_id").asText();

            Emulator.Received cb = rx.waitFor(1).get(0);
            Map<String, String> params = form(cb.body());
            assertEquals("success", params.get("VerificationStatus"));
            assertEquals(pn, params.get("OutgoingCallerIdSid"));
            String signature = cb.header("X-Twilio-Signature");
            assertTrue(new RequestValidator(TOKEN).validate(rx.url("/status"), params, signature), "the SDK's validator accepts it");
            assertFalse(new RequestValidator("wrong").validate(rx.url("/status"), params, signature));

            OutgoingCallerId got = OutgoingCallerId.fetcher(pn).fetch(client);
            assertEquals("My Home Phone", got.getFriendlyName());
            assertEquals(2026, got.getDateCreated().getYear(), "date_created parsed as RFC 2822");

            for (String n : List.of("+14158675301", "+14158675302", "+14158675303", "+14158675304")) {
                verify(n);
            }
            List<String> all = new ArrayList<>();
            OutgoingCallerId.reader().setPageSize(2L).read(client).forEach(c -> all.add(c.getSid()));
            assertEquals(5, all.size(), "every caller ID across pages of 2");
            assertEquals(5, new HashSet<>(all).size());
            Page<OutgoingCallerId> first = OutgoingCallerId.reader().setPageSize(2L).firstPage(client);
            assertEquals(2, first.getRecords().size());
            assertTrue(first.hasNextPage());
            Set<String> filtered = new HashSet<>();
            OutgoingCallerId.reader().setPhoneNumber("+14158675309").read(client).forEach(c -> filtered.add(c.getSid()));
            assertEquals(Set.of(pn), filtered);
            List<String> limited = new ArrayList<>();
            OutgoingCallerId.reader().setPageSize(2L).limit(3).read(client).forEach(c -> limited.add(c.getSid()));
            assertEquals(3, limited.size());

            Emulator.control("/_mock/clock", Map.of("advance", "1h"));
            OutgoingCallerId updated = OutgoingCallerId.updater(pn).setFriendlyName("Renamed").update(client);
            assertEquals("Renamed", updated.getFriendlyName());
            assertTrue(updated.getDateUpdated().isAfter(updated.getDateCreated()));

            assertTrue(OutgoingCallerId.deleter(pn).delete(client));
            ApiException gone = assertThrows(ApiException.class, () -> OutgoingCallerId.fetcher(pn).fetch(client));
            assertEquals(404, gone.getStatusCode());
            assertEquals(20404, gone.getCode());
        }
    }

    @Test
    void wrongDigitsAndABusyLineFailWithoutACallerId() throws Exception {
        try (Emulator.Receiver rx = new Emulator.Receiver()) {
            ValidationRequest vr = ValidationRequest.creator(new PhoneNumber("+14158675309"))
                    .setStatusCallback(URI.create(rx.url("/status"))).create(client);
            String wrong = vr.getValidationCode().equals("000000") ? "111111" : "000000";
            assertEquals("failed", answer(vr.getCallSid(), Map.of("digits", wrong)).get("state").asText());
            ValidationRequest busy = ValidationRequest.creator(new PhoneNumber("+12025551234"))
                    .setStatusCallback(URI.create(rx.url("/status")))
                    .setStatusCallbackMethod(com.twilio.http.HttpMethod.GET).create(client);
            assertEquals("busy", answer(busy.getCallSid(), Map.of("outcome", "busy")).get("call_status").asText());

            // Each callback is delivered on its own: they may arrive in either order.
            List<Emulator.Received> got = new java.util.ArrayList<>(rx.waitFor(2));
            got.sort(java.util.Comparator.comparing(r -> r.method().equals("GET")));
            assertEquals("failed", form(got.get(0).body()).get("VerificationStatus"));
            assertEquals("GET", got.get(1).method());
            assertTrue(new RequestValidator(TOKEN).validate(rx.url(got.get(1).path()), Map.of(),
                    got.get(1).header("X-Twilio-Signature")), "GET signature");
            assertFalse(OutgoingCallerId.reader().read(client).iterator().hasNext());
        }
    }

    @Test
    void errorsAreApiExceptions() {
        verify("+14158675309");
        Map<Integer, ValidationRequestCall> cases = Map.of(
                21450, () -> ValidationRequest.creator(new PhoneNumber("+14158675309")).create(client),
                21454, () -> ValidationRequest.creator(new PhoneNumber("+12025551234")).setCallDelay(61).create(client),
                21401, () -> ValidationRequest.creator(new PhoneNumber("+15005550001")).create(client));
        cases.forEach((code, call) -> {
            ApiException e = assertThrows(ApiException.class, call::run);
            assertEquals(400, e.getStatusCode());
            assertEquals(code, e.getCode());
        });
    }

    @Test
    void aCallIsRefusedUntilTheCallerIdIsVerifiedAndAgainAfterItIsDeleted() throws Exception {
        PhoneNumber caller = new PhoneNumber("+14158675309");
        PhoneNumber callee = new PhoneNumber("+14155550100");
        Twiml twiml = new Twiml("<Response><Say>Hello</Say></Response>");
        ApiException refused = assertThrows(ApiException.class, () -> Call.creator(callee, caller, twiml).create(client));
        assertEquals(400, refused.getStatusCode());
        assertEquals(21210, refused.getCode());

        String pn = verify("+14158675309");
        try (Emulator.Receiver status = new Emulator.Receiver();
                Emulator.Receiver app = new Emulator.Receiver(
                        "<Response><Dial callerId=\"+14158675309\">+14155550123</Dial></Response>")) {
            Call call = Call.creator(callee, caller, URI.create(app.url("/voice")))
                    .setStatusCallback(URI.create(status.url("/status")))
                    .setStatusCallbackEvent(List.of("initiated", "ringing", "answered", "completed")).create(client);
            assertEquals(Call.Status.QUEUED, call.getStatus());
            assertEquals(Call.Status.RINGING, Call.fetcher(call.getSid()).fetch(client).getStatus());

            assertEquals("in-progress", answer(call.getSid(), Map.of()).get("state").asText());
            Emulator.Received doc = app.waitFor(1).get(0);
            RequestValidator validator = new RequestValidator(TOKEN);
            assertTrue(validator.validate(app.url("/voice"), form(doc.body()), doc.header("X-Twilio-Signature")));

            Emulator.control("/_mock/clock", Map.of("advance", "60s"));
            Call ended = Call.fetcher(call.getSid()).fetch(client);
            assertEquals(Call.Status.COMPLETED, ended.getStatus());
            assertEquals("60", ended.getDuration());
            Set<String> statuses = new HashSet<>();
            for (Emulator.Received r : status.waitFor(4)) {
                Map<String, String> params = form(r.body());
                assertTrue(validator.validate(status.url("/status"), params, r.header("X-Twilio-Signature")));
                statuses.add(params.get("CallStatus"));
            }
            assertEquals(Set.of("initiated", "ringing", "in-progress", "completed"), statuses);
            List<String> listed = new ArrayList<>();
            Call.reader().setStatus(Call.Status.COMPLETED).setFrom(caller).read(client).forEach(c -> listed.add(c.getSid()));
            assertEquals(List.of(call.getSid()), listed);
        }

        assertTrue(OutgoingCallerId.deleter(pn).delete(client));
        ApiException again = assertThrows(ApiException.class, () -> Call.creator(callee, caller, twiml).create(client));
        assertEquals(21210, again.getCode());

        Emulator.control("/_mock/numbers", Map.of("provider", "twilio", "account", SID, "number", "+14155550199"));
        Call owned = Call.creator(callee, new PhoneNumber("+14155550199"), twiml).create(client);
        assertEquals(Call.Status.CANCELED, Call.updater(owned.getSid()).setStatus(Call.UpdateStatus.CANCELED).update(client).getStatus());
    }

    interface ValidationRequestCall {
        ValidationRequest run();
    }
}
