package graphkit.neo4jdev;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * A local Neo4j 5 (Community, embedded) server with the Bolt connector on, for
 * graphkit's users and test suite on machines without Docker.
 *
 * <p>The data directory is a Neo4j home: the store lives in
 * {@code DIR/data/databases/neo4j} and {@code DIR/data/transactions}, logs in
 * {@code DIR/logs} ({@code debug.log}, {@code neo4j.log}). It is the layout
 * {@code neo4j-admin} expects with {@code NEO4J_HOME=DIR}, so a server stopped
 * and restarted on the same directory keeps its data, and the bulk importer
 * can write into it while the server is down.
 *
 * <p>Usage:
 * <pre>
 *   mvn -B -q -f tools/neo4j-dev/pom.xml package
 *   java -Xms256m -Xmx1g -jar tools/neo4j-dev/target/neo4j-dev.jar \
 *        --bolt-port 7687 --data-dir /tmp/neo4j-home --password secret123
 *   NEO4J_HOME=/tmp/neo4j-home java -cp tools/neo4j-dev/target/neo4j-dev.jar \
 *        org.neo4j.cli.AdminTool database import full --help
 * </pre>
 *
 * <p>Contract with its callers (graphkit's {@code loaders/neo4j_server.py}):
 * once the server accepts Bolt connections it prints exactly one line,
 * {@code bolt://HOST:PORT}, on stdout, and nothing else ever goes to stdout.
 * It then runs until SIGINT/SIGTERM (or, with {@code --stop-on-stdin-close},
 * until its standard input closes), and shuts the database down cleanly. If it
 * cannot start it prints one line starting with {@code neo4j-dev: } on stderr
 * and exits with status 1; bad arguments exit with status 2.
 */
public final class DevServer {

    private static final String USAGE = String.join(
            "\n",
            "usage: java -jar neo4j-dev.jar [options]",
            "  --bolt-port PORT       Bolt port; 0 picks a free one (default 7687)",
            "  --listen-address HOST  address to listen on (default 127.0.0.1)",
            "  --data-dir DIR         Neo4j home holding data and logs, kept across",
            "                         restarts (default: a temporary directory,",
            "                         deleted at shutdown)",
            "  --page-cache SIZE      page cache size, e.g. 512m or 2g (default 512m)",
            "  --password PASSWORD    password of the user neo4j (default: the",
            "                         environment variable NEO4J_DEV_PASSWORD)",
            "  --stop-on-stdin-close  shut down when standard input reaches end of file",
            "  --help                 print this help");

    private static final String USER = "neo4j";
    private static final String PASSWORD_ENV = "NEO4J_DEV_PASSWORD";

    /** Parsed command line. */
    private static final class Options {
        int boltPort = 7687;
        String listenAddress = "127.0.0.1";
        Path dataDir;
        String pageCache = "512m";
        String password;
        boolean stopOnStdinClose;
    }

    /** A bad command line: reported with the usage text, exit status 2. */
    private static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    private DevServer() {}

    public static void main(String[] args) {
        // Only the ready line may reach stdout; anything else a library prints goes to stderr.
        PrintStream stdout = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        System.setOut(System.err);

        Options options;
        try {
            options = parse(args);
        } catch (UsageException e) {
            System.err.println("neo4j-dev: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (options == null) { // --help
            stdout.println(USAGE);
            System.exit(0);
            return;
        }

        boolean temporaryHome = options.dataDir == null;
        Path home = null;
        DatabaseManagementService service;
        try {
            home = temporaryHome
                    ? Files.createTempDirectory("neo4j-dev-")
                    : Files.createDirectories(options.dataDir.toAbsolutePath());
            service = start(options, home);
        } catch (Throwable e) {
            System.err.println("neo4j-dev: " + describeStartFailure(e, options));
            if (temporaryHome && home != null) {
                deleteQuietly(home);
            }
            System.exit(1);
            return;
        }
        Path finalHome = home;

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                service.shutdown();
                if (temporaryHome) {
                    deleteQuietly(finalHome);
                }
            } catch (Throwable e) {
                System.err.println("neo4j-dev: shutdown failed: " + e);
            } finally {
                stopped.countDown();
            }
        }, "neo4j-dev-shutdown"));

        int port;
        try {
            port = boundBoltPort(service);
            awaitAccepting(options.listenAddress, port, Duration.ofSeconds(30));
        } catch (Throwable e) {
            System.err.println("neo4j-dev: " + describeStartFailure(e, options));
            System.exit(1);
            return;
        }
        stdout.println("bolt://" + hostForUri(options.listenAddress) + ":" + port);
        System.err.println("neo4j-dev: Neo4j " + neo4jVersion() + " ready, home " + finalHome);

        if (options.stopOnStdinClose) {
            Thread watcher = new Thread(() -> {
                drain(System.in);
                System.exit(0); // runs the shutdown hook
            }, "neo4j-dev-stdin-watcher");
            watcher.setDaemon(true);
            watcher.start();
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Options parse(String[] args) throws UsageException {
        Options options = new Options();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--help", "-h" -> {
                    return null;
                }
                case "--stop-on-stdin-close" -> options.stopOnStdinClose = true;
                case "--bolt-port", "--listen-address", "--data-dir", "--page-cache", "--password" -> {
                    if (i + 1 >= args.length) {
                        throw new UsageException(arg + " needs a value");
                    }
                    String value = args[++i];
                    switch (arg) {
                        case "--bolt-port" -> options.boltPort = parsePort(value);
                        case "--listen-address" -> options.listenAddress = value;
                        case "--data-dir" -> options.dataDir = Path.of(value);
                        case "--page-cache" -> options.pageCache = value;
                        default -> options.password = value;
                    }
                }
                default -> throw new UsageException("unknown argument " + quote(arg));
            }
        }
        try {
            ByteUnit.parse(options.pageCache);
        } catch (RuntimeException e) {
            throw new UsageException("--page-cache " + quote(options.pageCache)
                    + " is not a size such as 512m or 2g");
        }
        if (options.password == null) {
            options.password = System.getenv(PASSWORD_ENV);
        }
        if (options.password == null || options.password.isEmpty()) {
            throw new UsageException("a password is required: --password or " + PASSWORD_ENV);
        }
        return options;
    }

    private static int parsePort(String value) throws UsageException {
        try {
            int port = Integer.parseInt(value);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new UsageException("--bolt-port " + quote(value) + " is not a port number (0 to 65535)");
    }

    private static DatabaseManagementService start(Options options, Path home) throws IOException {
        Path logs = Files.createDirectories(home.resolve("logs"));
        OutputStream userLog = Files.newOutputStream(
                logs.resolve("neo4j.log"), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        Map<org.neo4j.graphdb.config.Setting<?>, Object> settings = Map.ofEntries(
                Map.entry(BoltConnector.enabled, true),
                Map.entry(BoltConnector.listen_address, new SocketAddress(options.listenAddress, options.boltPort)),
                Map.entry(BoltConnector.advertised_address, new SocketAddress(options.listenAddress, options.boltPort)),
                Map.entry(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED),
                Map.entry(GraphDatabaseSettings.default_listen_address, new SocketAddress(options.listenAddress)),
                Map.entry(GraphDatabaseSettings.pagecache_memory, ByteUnit.parse(options.pageCache)),
                Map.entry(GraphDatabaseSettings.auth_enabled, true),
                // Tests log in with wrong passwords on purpose; Neo4j's default
                // (lock the user after 3 failures) would then fail the next test.
                Map.entry(GraphDatabaseSettings.auth_max_failed_attempts, 0),
                Map.entry(GraphDatabaseSettings.auth_minimum_password_length, 1),
                // A dev store stays small: do not reserve 256 MB per transaction log file.
                Map.entry(GraphDatabaseSettings.preallocate_logical_logs, false),
                Map.entry(GraphDatabaseSettings.udc_enabled, false),
                // Netty's default quiet period makes every shutdown wait 10 s for
                // nothing; the databases themselves are already stopped by then.
                Map.entry(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0));
        DatabaseManagementService service = new DatabaseManagementServiceBuilder(home)
                .setConfig(settings)
                .setUserLogProvider(new Log4jLogProvider(userLog, Level.INFO))
                .build();
        try {
            setPassword(service, options.password);
        } catch (RuntimeException e) {
            service.shutdown();
            throw e;
        }
        return service;
    }

    /**
     * Makes {@code password} the password of the user neo4j, with no forced change.
     *
     * <p>Runs on every start, so the command line is the one source of truth even
     * for an existing data directory; Neo4j refuses to "change" a password to the
     * one already set, which here just means there is nothing to do.
     */
    private static void setPassword(DatabaseManagementService service, String password) {
        try {
            service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER " + USER + " SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        } catch (RuntimeException e) {
            if (!causeChainMentions(e, "Old password and new password cannot be the same")) {
                throw e;
            }
        }
    }

    private static int boundBoltPort(DatabaseManagementService service) {
        GraphDatabaseAPI db = (GraphDatabaseAPI) service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        ConnectorPortRegister ports = db.getDependencyResolver().resolveDependency(ConnectorPortRegister.class);
        var address = ports.getLocalAddress(ConnectorType.BOLT);
        if (address == null) {
            throw new IllegalStateException("the Bolt connector did not start");
        }
        return address.getPort();
    }

    /** Waits until a TCP connection to the Bolt port succeeds. */
    private static void awaitAccepting(String host, int port, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), 1000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("Bolt port " + host + ":" + port + " does not accept connections", e);
                }
                Thread.sleep(50);
            }
        }
    }

    private static String describeStartFailure(Throwable error, Options options) {
        String where = options.listenAddress + ":" + options.boltPort;
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof BindException) {
                return "cannot start Neo4j: cannot listen on " + where
                        + " (" + cause.getMessage() + "; is the port already in use?)";
            }
            if (cause.getClass().getSimpleName().equals("FileLockException")) {
                return "cannot start Neo4j: data directory " + options.dataDir
                        + " is in use by another Neo4j process (" + cause.getMessage() + ")";
            }
        }
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String logHint = options.dataDir == null ? "" : "; see " + options.dataDir.resolve("logs/debug.log");
        return "cannot start Neo4j: " + oneLine(root.toString()) + logHint;
    }

    private static boolean causeChainMentions(Throwable error, String text) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause.getMessage() != null && cause.getMessage().contains(text)) {
                return true;
            }
        }
        return false;
    }

    private static String hostForUri(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    private static String neo4jVersion() {
        String version = DatabaseManagementService.class.getPackage().getImplementationVersion();
        return version == null ? "5" : version;
    }

    private static String oneLine(String text) {
        return text.replaceAll("\\s*\\R\\s*", " ");
    }

    private static String quote(String text) {
        return "'" + text + "'";
    }

    private static void drain(InputStream in) {
        byte[] buffer = new byte[4096];
        try {
            while (in.read(buffer) >= 0) {
                // discard; only the end of the stream matters
            }
        } catch (IOException ignored) {
            // a broken pipe means the parent is gone too
        }
    }

    private static void deleteQuietly(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            System.err.println("neo4j-dev: could not delete temporary home " + root + ": " + e);
        }
    }
}
