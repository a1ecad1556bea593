// A like-for-like Go yardstick for the whole GET path of issue 3: the article's net/http
// handler, which here asks an orders service over gRPC (grpc-go, one HTTP/2 connection over
// loopback), which reads the order and its lines from SQLite (WAL, synchronous=NORMAL, the
// schema of Switchyard's orders database) in one SELECT. All three run in one process, as
// `switchyard dev` does, so pinned to one core they share it the same way.
//
// What it leaves out, so that what it measures is the transport and the read: tracing, metrics,
// request logging, retries and bulkheads. The edge's 2 s deadline travels as the gRPC deadline,
// as in Switchyard. Error statuses follow the same table (NOT_FOUND 404, INVALID_ARGUMENT 400, …).
//
// Usage: go-whole-path [-addr 127.0.0.1:0] [-db DIR] [-order-id ID]
// It prints "listening 127.0.0.1:PORT" once both listeners are up, and seeds one order with
// the given id (one line, status "placed").
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "orderspb"
)

const schema = `
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('placed', 'shipped')),
    total_cents INTEGER NOT NULL CHECK (total_cents >= 0),
    created_at_ms INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_fingerprint TEXT NOT NULL,
    shipped_at_ms INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (customer_id, created_at_ms DESC, id DESC);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id TEXT NOT NULL REFERENCES orders (id),
    line_number INTEGER NOT NULL,
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, line_number)
) WITHOUT ROWID;`

// The same SELECT Switchyard's orders service runs for GetOrder.
const orderQuery = `
SELECT o.customer_id, o.status, o.total_cents, o.created_at_ms, o.shipped_at_ms,
       l.sku, l.quantity, l.unit_price_cents
FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id
WHERE o.id = ?
ORDER BY l.line_number`

type ordersServer struct {
	pb.UnimplementedOrdersServer
	query *sql.Stmt
}

func (s *ordersServer) GetOrder(ctx context.Context, req *pb.GetOrderRequest) (*pb.Order, error) {
	if req.Id == "" {
		return nil, status.Error(codes.InvalidArgument, "id is empty")
	}
	rows, err := s.query.QueryContext(ctx, req.Id)
	if err != nil {
		return nil, status.Error(codes.Unavailable, "orders database unavailable")
	}
	defer rows.Close()
	var order *pb.Order
	for rows.Next() {
		var customer, state string
		var total, created int64
		var shipped sql.NullInt64
		var sku sql.NullString
		var quantity, unitPrice sql.NullInt64
		if err := rows.Scan(&customer, &state, &total, &created, &shipped, &sku, &quantity, &unitPrice); err != nil {
			return nil, status.Error(codes.Internal, "unreadable order")
		}
		if order == nil {
			order = &pb.Order{Id: req.Id, CustomerId: customer, Status: state, TotalCents: total,
				CreatedAtUnixMs: created, ShippedAtUnixMs: shipped.Int64}
		}
		if sku.Valid {
			order.Lines = append(order.Lines, &pb.OrderLine{Sku: sku.String, Quantity: int32(quantity.Int64), UnitPriceCents: unitPrice.Int64})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, status.Error(codes.Internal, "unreadable order")
	}
	if order == nil {
		return nil, status.Errorf(codes.NotFound, "no order %q", req.Id)
	}
	return order, nil
}

// The gateway's gRPC-code-to-HTTP-status table (issue 3), with the error codes it names.
func httpStatus(code codes.Code) (int, string) {
	switch code {
	case codes.NotFound:
		return http.StatusNotFound, "NOT_FOUND"
	case codes.InvalidArgument:
		return http.StatusBadRequest, "INVALID_ARGUMENT"
	case codes.FailedPrecondition:
		return http.StatusConflict, "FAILED_PRECONDITION"
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"
	case codes.Unavailable:
		return http.StatusServiceUnavailable, "UNAVAILABLE"
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout, "DEADLINE_EXCEEDED"
	default:
		return http.StatusInternalServerError, "INTERNAL"
	}
}

func writeError(w http.ResponseWriter, httpCode int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpCode)
	json.NewEncoder(w).Encode(map[string]map[string]string{"error": {"code": code, "message": message}})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "HTTP listen address")
	dir := flag.String("db", "", "directory for the SQLite database (default: a new temporary one)")
	orderID := flag.String("order-id", "ord-bench-1", "id of the order to seed")
	flag.Parse()

	if *dir == "" {
		d, err := ioutil.TempDir("", "go-whole-path-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(*dir, "orders.sqlite")+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_foreign_keys=1")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := db.Exec(schema); err != nil {
		log.Fatal(err)
	}
	now := time.Now().UnixNano() / int64(time.Millisecond)
	if _, err := db.Exec(`INSERT OR IGNORE INTO orders (id, customer_id, status, total_cents, created_at_ms, idempotency_key, request_fingerprint)
		VALUES (?, 'ab', 'placed', 100, ?, ?, 'fp')`, *orderID, now, "key-"+*orderID); err != nil {
		log.Fatal(err)
	}
	if _, err := db.Exec(`INSERT OR IGNORE INTO order_lines VALUES (?, 0, 'sku-5', 1, 100)`, *orderID); err != nil {
		log.Fatal(err)
	}
	query, err := db.Prepare(orderQuery)
	if err != nil {
		log.Fatal(err)
	}

	grpcListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	server := grpc.NewServer()
	pb.RegisterOrdersServer(server, &ordersServer{query: query})
	go server.Serve(grpcListener)

	conn, err := grpc.Dial(grpcListener.Addr().String(), grpc.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	orders := pb.NewOrdersClient(conn)

	http.HandleFunc("/orders", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if id == "" {
			writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "missing id")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		order, err := orders.GetOrder(ctx, &pb.GetOrderRequest{Id: id})
		if err != nil {
			s := status.Convert(err)
			httpCode, name := httpStatus(s.Code())
			message := s.Message()
			if httpCode == http.StatusInternalServerError {
				message = "internal error"
			}
			writeError(w, httpCode, name, message)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}{order.Id, order.Status})
	})
	httpListener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening %s\n", httpListener.Addr())
	log.Fatal(http.Serve(httpListener, nil))
}
