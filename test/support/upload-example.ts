/**
 * A fixed certificate and key for the upload tests (`openssl req -x509 -days 36500`, CN and SAN
 * upload.example.test, valid until 2126), so a test can look for its key in every answer and log
 * line. The key is public in this repository: it protects nothing, and nothing should trust it.
 */
export const EXAMPLE_UPLOAD = {
  certificate: `-----BEGIN CERTIFICATE-----
MIIB1zCCAX2gAwIBAgIUKsn3lfb+VZ8rv9bo72fSpMnVH6swCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTdXBsb2FkLmV4YW1wbGUudGVzdDAgFw0yNjEyMDMxMjM3Mzla
GA8yMTI2MTEwOTEyMzczOVowHjEcMBoGA1UEAwwTdXBsb2FkLmV4YW1wbGUudGVz
dDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCNvglrmp05HrhdmdKCp5PmFb0lG
hbOLoqekwbD1dMYfCgkS2BwS95tVPbNHPHOWmanB8iBXY7j6LNJ2vJBSzUWjgZYw
gZMwHQYDVR0OBBYEFFnOAIkmOIKblWTDQUg7WNdyGHhAMB8GA1UdIwQYMBaAFFnO
AIkmOIKblWTDQUg7WNdyGHhAMB4GA1UdEQQXMBWCE3VwbG9hZC5leGFtcGxlLnRl
c3QwDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYB
BQUHAwEwCgYIKoZIzj0EAwIDSAAwRQIgKzpPr1XU6unBtPF6it0JXdSNs0z6HWY3
yldmpREcSOoCIQDypIjU9HWHt/TWJyPP1KMf4hGxqOd2e9z+y0mSjTqoHQ==
-----END CERTIFICATE-----
`,
  privateKey: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg42qT+7IjKfvuuPG6
iD6hfCJsKKakKe9a6RKn5WA4qrahRANCAAQjb4Ja5qdOR64XZnSgqeT5hW9JRoWz
i6KnpMGw9XTGHwoJEtgcEvebVT2zRzxzlpmpwfIgV2O4+izSdryQUs1F
-----END PRIVATE KEY-----
`,
} as const;
