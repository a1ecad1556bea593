// The article's TypeScript fetchOrder, written as plain JavaScript for node (18+ has fetch),
// pointed at a base URL instead of http://order-service:8080.
// usage: node fetch_order.mjs BASE_URL ORDER_ID
// Prints the parsed order as JSON, or "THROWN <message>" and exits 3 when fetchOrder throws.
async function fetchOrder(baseUrl, id) {
  const response = await fetch(`${baseUrl}/orders?id=${id}`);
  if (!response.ok) throw new Error(`HTTP error: ${response.status}`);
  return response.json();
}

const [baseUrl, id] = process.argv.slice(2);
try {
  const order = await fetchOrder(baseUrl, id);
  console.log(JSON.stringify(order));
} catch (error) {
  console.log(`THROWN ${error.message}`);
  process.exitCode = 3;
}
