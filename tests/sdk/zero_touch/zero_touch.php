<?php
// Zero-touch for PHP: provider hosts called with curl the way the PHP SDKs call them
// (twilio-php's CurlClient: CURLOPT_HEADER, the answer split on the first blank lines, a
// proxy's "200 Connection established" part skipped), with no CA option and no proxy option:
// only the environment that `callerid-mock env` prints (https_proxy, and PHP_INI_SCAN_DIR's
// curl.cainfo). PHP's SDKs are not installable here (no Packagist); this is their transport.

function fail(string $why): void {
    fwrite(STDERR, "php zero-touch: $why\n");
    exit(1);
}

// As twilio-php's CurlClient::request does it; returns [status, headers, decoded body].
function sdk_request(string $method, string $url, string $user, string $password, array $form = []): array {
    $curl = curl_init();
    $options = [
        CURLOPT_URL => $url,
        CURLOPT_HEADER => true,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_INFILESIZE => -1,
        CURLOPT_HTTPHEADER => ['Accept: application/json'],
        CURLOPT_TIMEOUT => 60,
        CURLOPT_HTTPAUTH => CURLAUTH_BASIC,
        CURLOPT_USERPWD => "$user:$password",
    ];
    if ($method === 'POST') {
        $options[CURLOPT_POST] = true;
        $options[CURLOPT_POSTFIELDS] = http_build_query($form);
    }
    curl_setopt_array($curl, $options);
    $response = curl_exec($curl);
    if ($response === false) {
        fail("$method $url: " . curl_error($curl));
    }
    $parts = explode("\r\n\r\n", $response, 3);
    [$head, $body] = (
        preg_match('/\AHTTP\/1.\d 100 Continue/', $parts[0])
        || preg_match('/\AHTTP\/1.\d 200 Connection established/', $parts[0])
        || preg_match('/\AHTTP\/1.\d 200 Tunnel established/', $parts[0])
    )
        ? [$parts[1], $parts[2] ?? '']
        : [$parts[0], $parts[1] ?? ''];
    $status = curl_getinfo($curl, CURLINFO_HTTP_CODE);
    $decoded = json_decode($body, true);
    if (!is_array($decoded)) {
        fail("$method $url: the body is not JSON: " . var_export(substr($body, 0, 200), true) . " (head: $head)");
    }
    return [$status, $head, $decoded];
}

// The control plane, on loopback: reached directly (NO_PROXY).
function control(string $path, ?array $body = null): array {
    $curl = curl_init(getenv('CALLERID_MOCK_URL') . $path);
    curl_setopt($curl, CURLOPT_RETURNTRANSFER, true);
    if ($body !== null) {
        curl_setopt($curl, CURLOPT_POSTFIELDS, json_encode((object) $body));
        curl_setopt($curl, CURLOPT_HTTPHEADER, ['Content-Type: application/json']);
    }
    return json_decode(curl_exec($curl), true);
}

if (!str_contains((string) ini_get('curl.cainfo'), 'bundle.pem')) {
    fail('curl.cainfo is ' . var_export(ini_get('curl.cainfo'), true) . ': PHP_INI_SCAN_DIR did not reach it');
}

$sid = 'AC9999999999999999999999999999999a';
control("/_mock/reset?account=$sid", []);
$base = "https://api.twilio.com/2010-04-01/Accounts/$sid";
[$status, , $vr] = sdk_request('POST', "$base/OutgoingCallerIds.json", $sid, 'php',
    ['PhoneNumber' => '+14158675309', 'FriendlyName' => 'PHP zero-touch']);
if ($status !== 200 || !isset($vr['validation_code'])) {
    fail("Twilio ValidationRequest answered $status: " . json_encode($vr));
}
control("/_mock/calls/{$vr['call_sid']}/answer", ['digits' => $vr['validation_code']]);
[$status, , $list] = sdk_request('GET', "$base/OutgoingCallerIds.json", $sid, 'php');
$names = array_map(fn ($c) => $c['friendly_name'], $list['outgoing_caller_ids'] ?? []);
if ($status !== 200 || $names !== ['PHP zero-touch']) {
    fail("Twilio list answered $status: " . json_encode($list));
}
echo "  php: twilio ValidationRequest, answered, listed through the proxy: ok\n";

$authId = 'MAPHPZEROTOUCHXXXXXX';
[$status, , $page] = sdk_request('GET', "https://api.plivo.com/v1/Account/$authId/VerifiedCallerId/", $authId, 't');
if ($status !== 200 || !isset($page['meta']['total_count'])) {
    fail("Plivo list answered $status: " . json_encode($page));
}
echo "  php: plivo VerifiedCallerId list through the proxy: ok\n";
