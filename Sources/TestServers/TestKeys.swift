// TEST-ONLY RSA keys. They were generated with `openssl genrsa 2048` for this repository's
// tests and are public: never use them for anything real.

extension FakeFCMServer {
    /// The test service account's RSA private key (PKCS#8 PEM). The fake FCM token endpoint verifies
    /// JWT assertions against its public half. TEST KEY ONLY: it is published in this repository.
    public static let testPrivateKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC/0iEWdi4OJiQ4
        Vecjc5ZyBtlP9iMrBMqgjVJeSaBotfCl17tKbpOFI/QBEGMSoDHCdPpdY9tmKpPl
        KSP9qWO7R1C8Y42RKr9cXQZVWkzTBMxfv0t87BZaSQ7+kY/cvEv+9Tgm/6AyQ8KJ
        9h7eUfKCrWETci4Ibi93pxYFkb1mEX3V/A6P7qwZJKFM64uIGP1ZtsK9bCDS8DM0
        uIjihasc7i/PLwDWNXp4g2bPhdhZphl6UU10fVB6QuhQ28z9kAN4TU4B3M6meAJo
        HJGbRBFe+CSP1nEoKEYsgn52ezs8L/iHbpgwgCqxHkW5odXjGqtP73DXfhu38UgJ
        nxmh9T33AgMBAAECggEABBjbhF7CZq3Kngq6oV89YIu6bOyFJbwZnglHZ5wddSbA
        TYVOKW2iosj2C56kZbHnl+tTJkZrSQNLJjidlTQnKxGsNWCCBVbyHtjbHX4SEk7R
        xvSjEFNsExAVPxoULTtYda1oQ/V/7fOc3O126+OMPcdM0luS9EOI1lIjrDXHtwt3
        AB0ajCcXlXP1IAzXueeSzD+7iK9vmhURtYdkhuOowe8PLgwBN0vAQGzQwvzMpuuF
        AAYS+K/1eYM7laNnaFhBmJdRp2ENGVhCANH5IG4wwjy+uDw44XGxgnYlJxssHywm
        qHYFfzETioyylRI+ubElRuVP0PvC7ThHGnYjkaN1XQKBgQDhhF94jwJ0Hbieyk3i
        FqOeJR/+jnI7GPNiteLIRBK5wc/kLyfzVJnGSLQzRZMnyARpYIVaqg/giZwaI96u
        xMi+6q8yfN+Cj/5e3sc9PwX6aRSO8/0nj5BeZ+RQhWqWIz+xHKoKfSMS6Iif4EQT
        S5LdrbWGETpoeRukeKj80IH8YwKBgQDZv8FuYu8rTJ9KRj0Xz7k0SMm2B3J726Jv
        3R/LNt4Y3Y0Z/ieOzA0ui/xjDIHTWRfrluD8Ggu/jxHQUYD31KDLMdiNqWW1FeGR
        XnzIQxDlHkkXmSfq86Gun+jgyWteY9OuTcqyHGiOVw3hiv0l1U0EIRAiIkm2RTnS
        yivYwUOaXQKBgHXO7QDR1HpMPHHXRTBimz62LiyQxWPR+PMMCViNFysq8CtH5xra
        iypmOJzAL8uMVaGm5oMibADkYkPVkTLDYgs6FiPN0AUoq71rq7F3Bux1kGPNWeYc
        vVJT+5WE3NVpvJANZVbtYDE0gIrkYSujQynC4R0USurguWwGDGFlm0H5AoGBAMp7
        Y9XQLfMnpyAcPIc95EzYOqoINs8yJ9S53OzNMq4Qpzs6eXJyEPftuF4qrTbpLDMo
        9EG5vp783WXHxJOwp20MBwGEOk2v8TeKk6JtqvJDvVgyVUpID1sg3B7bbfox/g+h
        yxDhFeD21rOa2VgrBxkF3ci/9aeGrAR1d1xyKvkJAoGAT87iwk2djYL/NPszuv6B
        06qkgZhFgtDjRptWNw6CdkLRNbFvKJGrSjtYjW9n6vlursuKvTS3opYVEvKdOQGI
        8pNEyziehy5MAgJ7VUiGNTNSbMJKu4dDbEukwFiZORvzUIvU7GYQLVrgen74Hvde
        fow3x/nZIcif93r5C0Bgt2k=
        -----END PRIVATE KEY-----
        """

    /// A second, unrelated test RSA key: assertions signed with it must be rejected by the fake.
    /// TEST KEY ONLY: it is published in this repository.
    public static let otherTestPrivateKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDikHx9dJSHVyyD
        GYJ9ZFajORANfxKTbvSH0/khBwyc7zFVNpLeO+ySD6UAXPM5XC8yEo31pFZfKAA8
        irp9cf9IAlXxedR82Fd4QUqtUF1KADWJZJuULc/O3GL618pGMG4iJwxodu8W9KMA
        1XeDuurdGyM+N8hPNTGHdP/HkoUjqW2da8Co3154gqIKbJxjrR4nfH9Ftiwycdp8
        CBGC73KNS4mbQYe6vkyG9Llps13/22BKSnkbCVywYVe7k7FB8qNxRCfbl/jL3qwc
        d2qlCyj9qCBkrmhv39SoggwcKxLAA0uNITYrY2nOAVgM8dn/KFfdVvqcSaXMPjfH
        2nq35hAJAgMBAAECgf9lVTpY4kuMPPErsb0rWDVny53ia3NjfbzhA23p171Mc68c
        7cvCmgq1SUoDX49pmFGDk8jqlRYMeVehvGqssM/85Q6LcnIXZKu6nXlJCyiucGmB
        if4LyHGpk+ixSNKvkfmwTMa/8nH9Um2VceSChpeFTR32NfzhcGk2rJ26JU5nJAjy
        opGRULkhisnmvib5ZlTtjfUtx68RLNq1MrmL/iVq5LvPHs2YYpSDAmCqOemO5vL1
        e6Q13WG9t7Fu6hD7fSpja12cV8UxpxEMTk7SG/XUcbaebRKpagApEOCbc7aa6buH
        OeX9UT23mxWRRaryqCBgXDSLc9EGe7KLKBCIyusCgYEA8p5SZ5NjtnRDIni4SS3z
        +HhM0tMqdvhYOmesqKdKoWQvk7h1HYnJ6EfoSsPOgGJEi428E4kWfrpcxhuo7GWx
        AnV0xQbIBubwUii1rJAExkBWeVOWXSZ1sr2/DRC4h9e5Q8nCP7dpPZ6V+/G3tGed
        pfp6ZSoAm6jE1WYbtXvGgasCgYEA7w98zgK89mPLanSRjNsOiq5SlZFQxBn++KfN
        liTwZykFQ6+zkfQqxto8v92OnUJV+fAhvFWRZzn85AMrm7qYfppcyrqiYHwFPqx+
        /YUAKvsEa61J68oAr7ls1UuMp9hbKW6AqfQNx38iBaPuuKnSExHX7fky/eQzk4J9
        sK+WKRsCgYEAkQmIZZa8wzPZdmAIeubXtC/mbRoDhr+Lrs6PbvsjKDwGHR7mFFRs
        uUlTWm6XojQcmfiO+Ha5VeT+1QdwAnIAUWH5/lbBeS7Rd6wSfyhRUlrf1wPbHbCC
        J+o6rgrS5ZJWlGmmkASLC2UkcErd8SEII1MLnDJxzpwjnxa9dc6aqqUCgYA330HH
        EELDvz0qi0X9SrFSXj208TqUKpM54FYfUlDRe3fcgvMQGKXqxdTO7uRHAtr/SE1K
        LCGIo7fkPo1xnyHG7SLkysvqivHa3QvtCqmoYfR9igmtzw9sAoVaMIcWL23W+Bmg
        Hwcdaiw0b0T66c3MYS47UzPEvRIE1smzgsYwowKBgQCMFbKOw1INYsP9lqtBm9L5
        LZ3LANcNF1ccW1rdNWo2MQjwXT8+tFKIx9IatUXECRrZpInFLJSt/GOGc2vLsvCg
        fAJpfBGY71QG4DLBnA+bAt6HSW6qx2LXoIM+5UCmpCzlANOwZIqotPIbonk5xV4g
        L+y3/n50oHtMlU1mOIY1Ng==
        -----END PRIVATE KEY-----
        """
}
