package sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.plivo.api.PlivoClient;
import com.plivo.api.exceptions.InvalidRequestException;
import com.plivo.api.exceptions.ResourceNotFoundException;
import com.plivo.api.models.call.Call;
import com.plivo.api.models.call.CallCreateResponse;
import com.plivo.api.models.call.CallStatus;
import com.plivo.api.models.call.LiveCall;
import com.plivo.api.models.verify.GetVerifiedCallerIdResponse;
import com.plivo.api.models.verify.InitiateVerifyResponse;
import com.plivo.api.models.verify.ListVerifiedCallerIdResponse;
import com.plivo.api.models.verify.UpdateVerifiedCallerIdResponse;
import com.plivo.api.models.verify.Verify;
import com.plivo.api.models.verify.VerifyCallerIdResponse;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The official plivo-java SDK, unmodified, against callerid-mock. Its documented
 * OkHttpClient.Builder carries an interceptor that sends every request to the emulator;
 * nothing else changes.
 */
class PlivoTest {
    static final String AUTH_ID = "MAJAVAXXXXXXXXXXXXXX";

    PlivoClient client;

    @BeforeEach
    void reset() {
        Emulator.control("/_mock/reset?account=" + AUTH_ID, Map.of());
        // docs:begin plivo-java
        OkHttpClient.Builder toEmulator = new OkHttpClient.Builder().addInterceptor(chain -> {
            HttpUrl url = chain.request().url().newBuilder()
                    .scheme(Emulator.URL.getScheme()).host(Emulator.URL.getHost()).port(Emulator.URL.getPort()).build();
            return chain.proceed(chain.request().newBuilder().url(url).build());
        });
        client = new PlivoClient(AUTH_ID, "token123", toEmulator);
        // docs:end plivo-java
    }

    static JsonNode latestCode(String number) {
        return Emulator.control("/_mock/codes?account=" + AUTH_ID + "&number=" + number.replace("+", "%2B"))
                .get("codes").get(0);
    }

    VerifyCallerIdResponse verify(String number, String alias, String subaccount) throws Exception {
        InitiateVerifyResponse started = Verify.initiateVerify().phoneNumber(number).alias(alias).subaccount(subaccount)
                .client(client).create();
        return Verify.verifyCallerId(started.getVerificationUuid()).otp(latestCode(number).get("code").asText())
                .client(client).create();
    }

    @Test
    void everyOperationEndToEnd() throws Exception {
        InitiateVerifyResponse started = Verify.initiateVerify().phoneNumber("+12025551234").alias("Main Office")
                .channel("call").client(client).create();
        assertEquals("Verification code is sent to number +12025551234 which is valid for 15 minutes",
                started.getMessage());
        JsonNode sent = latestCode("+12025551234");
        assertEquals(started.getVerificationUuid(), sent.get("id").asText());
        assertEquals("call", sent.get("channel").asText());

        String wrong = sent.get("code").asText().equals("000000") ? "111111" : "000000";
        InvalidRequestException bad = assertThrows(InvalidRequestException.class,
                () -> Verify.verifyCallerId(started.getVerificationUuid()).otp(wrong).client(client).create());
        assertTrue(bad.getMessage().contains("invalid OTP; 4 attempts remaining"), bad.getMessage());

        VerifyCallerIdResponse verified = Verify.verifyCallerId(started.getVerificationUuid())
                .otp(sent.get("code").asText()).client(client).create();
        assertEquals("+12025551234", verified.getPhoneNumber());
        assertEquals("US", verified.getCountry());
        assertEquals("call", verified.getChannel());
        assertEquals("Main Office", verified.getAlias());
        assertNull(verified.getSubaccount(), "the verify answer has no subaccount");
        assertEquals(2026, OffsetDateTime.parse(verified.getCreatedAt()).getYear(), "created_at is RFC 3339");

        GetVerifiedCallerIdResponse got = Verify.getVerifiedCallerID("+12025551234").client(client).get();
        assertEquals(started.getVerificationUuid(), got.getVerificationUuid());
        assertEquals("", got.getSubaccount());
        assertEquals(got.getCreatedAt(), got.getModifiedAt());

        verify("+919768368717", "Bangalore", "SAMTU0Y2FKNGETYZDKNI");
        ListVerifiedCallerIdResponse india = Verify.listVerifiedCallerID().country("IN").limit(20).offset(0)
                .client(client).get();
        assertEquals(1, india.getMeta().getTotalCount());
        assertEquals("+919768368717", india.getObjects().get(0).getPhoneNumber());
        assertEquals("/v1/Account/" + AUTH_ID + "/VerifiedCallerId/919768368717",
                india.getObjects().get(0).getResourceUri());
        assertEquals(1, Verify.listVerifiedCallerID().subaccount("SAMTU0Y2FKNGETYZDKNI").client(client).get()
                .getMeta().getTotalCount());
        ListVerifiedCallerIdResponse page = Verify.listVerifiedCallerID().limit(1).offset(0).client(client).get();
        assertEquals(2, page.getMeta().getTotalCount());
        assertEquals("/v1/Account/" + AUTH_ID + "/VerifiedCallerId/?limit=1&offset=1", page.getMeta().getNext());
        ListVerifiedCallerIdResponse second = Verify.listVerifiedCallerID().limit(1).offset(1).client(client).get();
        assertEquals(1, second.getObjects().size());
        assertNull(second.getMeta().getNext());

        UpdateVerifiedCallerIdResponse updated = Verify.updateVerifiedCallerID("+12025551234").alias("New")
                .subaccount("SAXXXXXXXXXXXXXXXXXX").client(client).update();
        assertEquals("New", updated.getAlias());

        Verify.deleteVerifiedCallerID("+12025551234").client(client).delete();
        assertThrows(ResourceNotFoundException.class,
                () -> Verify.getVerifiedCallerID("+12025551234").client(client).get());
    }

    @Test
    void anExpiredOtpIsRefused() throws Exception {
        InitiateVerifyResponse started = Verify.initiateVerify().phoneNumber("+14155552671").client(client).create();
        String code = latestCode("+14155552671").get("code").asText();
        Emulator.control("/_mock/clock", Map.of("advance", "16m"));
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> Verify.verifyCallerId(started.getVerificationUuid()).otp(code).client(client).create());
        assertTrue(e.getMessage().contains("expired"), e.getMessage());
    }

    @Test
    void invalidNumbersAndUnknownUuidsRaise() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> Verify.initiateVerify().phoneNumber("+1234").client(client).create());
        assertTrue(e.getMessage().contains("The number +1234 is not a valid number"), e.getMessage());
        assertThrows(ResourceNotFoundException.class,
                () -> Verify.verifyCallerId("2e68eb73-4d54-4391-bc98-71cd380911a4").otp("123456").client(client).create());
    }

    @Test
    void aCallIsRefusedUntilTheCallerIdIsVerifiedAndAgainAfterItIsDeleted() throws Exception {
        String caller = "+12025551234";
        InvalidRequestException refused = assertThrows(InvalidRequestException.class,
                () -> Call.creator(caller, List.of("14155550100"), "https://app.test/answer").client(client).create());
        assertTrue(refused.getMessage().contains("from is neither"), refused.getMessage());

        verify(caller, "Office", null);
        CallCreateResponse fired;
        try (Emulator.Receiver app = new Emulator.Receiver("<Response><Speak>Hello</Speak></Response>")) {
            fired = Call.creator(caller, List.of("14155550100"), app.url("/answer")).client(client).create();
            Emulator.control("/_mock/calls/" + fired.getRequestUuid() + "/answer", Map.of());
            assertEquals("StartApp", TwilioTest.form(app.waitFor(1).get(0).body()).get("Event"), "the answer URL is read");
        }
        assertEquals("call fired", fired.getMessage());
        LiveCall live = LiveCall.getter(fired.getRequestUuid()).client(client).get();
        assertEquals(CallStatus.IN_PROGRESS, live.getCallStatus());
        assertEquals("14155550100", live.getTo());

        Emulator.control("/_mock/clock", Map.of("advance", "20s"));
        Call.deleter(fired.getRequestUuid()).client(client).delete();
        Call record = Call.getter(fired.getRequestUuid()).client(client).get();
        assertEquals(20L, record.getCallDuration());
        assertEquals(4000, record.getHangupCauseCode());
        assertEquals("API Request", record.getHangupSource());

        Verify.deleteVerifiedCallerID(caller).client(client).delete();
        assertThrows(InvalidRequestException.class,
                () -> Call.creator(caller, List.of("14155550100"), "https://app.test/answer").client(client).create());
    }
}
