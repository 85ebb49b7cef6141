package sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import com.plivo.api.PlivoClient;
import com.plivo.api.models.verify.Verify;
import com.twilio.http.TwilioRestClient;
import com.twilio.rest.api.v2010.account.OutgoingCallerId;
import com.twilio.rest.api.v2010.account.ValidationRequest;
import com.twilio.type.PhoneNumber;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Zero-touch on the JVM: twilio-java and plivo-java at their production settings (no
 * base URL, no custom HTTP client) reach callerid-mock with nothing but the environment
 * that `callerid-mock env` prints: its JAVA_TOOL_OPTIONS carries the proxy and a trust store
 * holding the emulator's CA. Run by tests/sdk/run.sh inside that environment only.
 */
@EnabledIfEnvironmentVariable(named = "JAVA_TOOL_OPTIONS", matches = ".*javax\\.net\\.ssl\\.trustStore=.*")
class ZeroTouchTest {
    @Test
    void twilioReachesTheEmulatorThroughTheProxy() {
        String sid = "AC8888888888888888888888888888888a";
        Emulator.control("/_mock/reset?account=" + sid, Map.of());
        TwilioRestClient client = new TwilioRestClient.Builder(sid, "zerotouch").build();
        ValidationRequest vr = ValidationRequest.creator(new PhoneNumber("+14158675309"))
                .setFriendlyName("Java zero-touch").create(client);
        Emulator.control("/_mock/calls/" + vr.getCallSid() + "/answer", Map.of("digits", vr.getValidationCode()));
        OutgoingCallerId only = OutgoingCallerId.reader().read(client).iterator().next();
        assertEquals("Java zero-touch", only.getFriendlyName());
    }

    @Test
    void plivoReachesTheEmulatorThroughTheProxy() throws Exception {
        String authId = "MAJAVAZEROTOUCHXXXXX";
        Emulator.control("/_mock/reset?account=" + authId, Map.of());
        PlivoClient client = new PlivoClient(authId, "token");
        String uuid = Verify.initiateVerify().phoneNumber("+12025551234").client(client).create()
                .getVerificationUuid();
        String code = Emulator.control("/_mock/codes/latest?number=%2B12025551234&account=" + authId)
                .get("code").asText();
        assertEquals("+12025551234",
                Verify.verifyCallerId(uuid).otp(code).client(client).create().getPhoneNumber());
    }
}
