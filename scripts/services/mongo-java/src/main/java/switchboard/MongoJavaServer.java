package switchboard;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;

import java.nio.file.Files;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Launcher for mongo-java-server (de.bwaldvogel) with its on-disk H2 (MVStore) backend: a
 * MongoDB-wire-compatible server for Switchboard's cluster-mode tests.
 *
 * <p>Started by scripts/services/mongo.sh. Usage:
 * {@code java -cp CLASSPATH switchboard.MongoJavaServer --data FILE [--host 127.0.0.1] [--port 27017]
 * [--server-version 4.4.0] [--wire-version 9] [--oplog] [--no-serialize]}
 *
 * <p>Atomicity fix (on by default): mongo-java-server runs each command under a per-collection
 * lock, but hands back the live, cached document objects (findAndModify with new:true returns the
 * very instance it just modified; find returns stored instances). Netty encodes the reply after
 * the lock is released, so a concurrent update can change a reply under its feet: 200 concurrent
 * findOneAndUpdate({$inc: {seq: 1}}, {returnDocument: 'after'}) returned only ~197 distinct
 * values although the counter itself ended at the right total. The launcher therefore wraps the
 * backend so that every call runs under one global lock and every reply is deep-copied before the
 * lock is released. Every operation is then atomic and isolated (throughput is that of one
 * thread, which is plenty for tests). --no-serialize turns this off.
 *
 * <p>The H2 backend commits its store about once a second on its own; SIGTERM runs a shutdown
 * hook that commits and closes the store, so a clean stop loses nothing.
 */
public final class MongoJavaServer {

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 27017;
        String data = null;
        // The Node driver 7 refuses servers below wire version 9 (MongoDB 4.4). mongo-java-server's
        // own ServerVersion enum tops out at wire 8 (its MONGO_5_0), so report 4.4 / 9 ourselves.
        String serverVersion = "4.4.0";
        int wireVersion = 9;
        boolean oplog = false;
        boolean serialize = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--host" -> host = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--data" -> data = args[++i];
                case "--server-version" -> serverVersion = args[++i];
                case "--wire-version" -> wireVersion = Integer.parseInt(args[++i]);
                case "--oplog" -> oplog = true;
                case "--no-serialize" -> serialize = false;
                default -> {
                    System.err.println("unknown argument: " + args[i]);
                    System.exit(2);
                }
            }
        }
        if (data == null) {
            System.err.println("--data FILE is required (the H2 MVStore file)");
            System.exit(2);
        }
        Path dataFile = Path.of(data).toAbsolutePath();
        Files.createDirectories(dataFile.getParent());

        long t0 = System.nanoTime();
        H2Backend backend = new H2Backend(dataFile.toString());
        backend.version(version(serverVersion, wireVersion));
        MongoServer server = new MongoServer(serialize ? serialized(backend) : backend);
        if (oplog) {
            server.enableOplog();
        }
        server.bind(host, port);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("switchboard-mongo-java: shutting down");
            try {
                server.shutdown(); // stops listening, closes the backend (commits the MVStore)
            } catch (RuntimeException e) {
                e.printStackTrace();
            }
            stopped.countDown();
        }, "shutdown"));

        System.out.printf("switchboard-mongo-java: listening on %s:%d, data %s, server version %s (wire %d), oplog %s, serialized %s, ready in %d ms%n",
                host, port, dataFile, serverVersion, wireVersion, oplog ? "on" : "off", serialize ? "yes" : "no", (System.nanoTime() - t0) / 1_000_000);
        System.out.flush();
        stopped.await();
    }

    private static MongoVersion version(String dotted, int wire) {
        List<Integer> parts = Arrays.stream(dotted.split("\\.")).map(Integer::valueOf).toList();
        return new MongoVersion() {
            @Override
            public List<Integer> getVersionArray() {
                return parts;
            }

            @Override
            public int getWireVersion() {
                return wire;
            }
        };
    }

    /** One global lock around the backend; replies are deep copies taken while holding it. */
    private static MongoBackend serialized(MongoBackend target) {
        ReentrantLock lock = new ReentrantLock();
        return (MongoBackend) Proxy.newProxyInstance(
            MongoBackend.class.getClassLoader(),
            new Class<?>[] {MongoBackend.class},
            (proxy, method, args) -> {
                lock.lock();
                try {
                    Object result = method.invoke(target, args);
                    if (result == target) {
                        return proxy; // fluent methods such as version(...)
                    }
                    return copy(result);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                } finally {
                    lock.unlock();
                }
            });
    }

    private static Object copy(Object result) {
        if (result instanceof Document document) {
            return document.cloneDeeply();
        }
        if (result instanceof QueryResult queryResult) {
            List<Document> documents = new ArrayList<>();
            for (Document document : queryResult) {
                documents.add(document.cloneDeeply());
            }
            return new QueryResult(documents, queryResult.getCursorId());
        }
        return result;
    }
}
