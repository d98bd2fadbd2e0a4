package api_test

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// vmHWM is the process's peak resident set size in KiB (Linux).
func vmHWM() int64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return -1
}

// TestPeakRSSServer is the server half of BenchmarkWorstCheckpointRSS, run
// in a process of its own so that its peak RSS is the server's alone.
func TestPeakRSSServer(t *testing.T) {
	if os.Getenv("GATEHOUSE_PEAK_RSS_SERVER") == "" {
		t.Skip("the server half of BenchmarkWorstCheckpointRSS")
	}
	e := newEnv(t)
	e.newStack(e.admin, "app", "dev", nil)
	u := e.begin(e.admin, "app", "dev", "update")
	runtime.GC()
	fmt.Printf("READY %s %s %s %d\n", e.srv.URL, stackPath("app", "dev", "update", u.id, "checkpointverbatim"), strings.TrimPrefix(u.auth, "update-token "), vmHWM())
	bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Printf("PEAK %d\n", vmHWM())
}

// checkpointBody streams a verbatim checkpoint of size bytes (gzip
// compressed when zip) without holding it.
func checkpointBody(size int, zip bool) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		var w io.Writer = pw
		var zw *gzip.Writer
		if zip {
			zw = gzip.NewWriter(pw)
			w = zw
		}
		bw := bufio.NewWriterSize(w, 1<<20)
		head := `{"version":3,"sequenceNumber":1,"untypedDeployment":{"version":3,"deployment":{"manifest":{},"resources":[`
		tail := `]}}}`
		bw.WriteString(head)
		n := len(head) + len(tail)
		pad := strings.Repeat("p", 900)
		for i := 0; ; i++ {
			r := fmt.Sprintf(`{"urn":"urn:pulumi:dev::app::aws:s3/bucket:Bucket::b%09d","type":"aws:s3/bucket:Bucket","outputs":{"pad":"%s"}}`, i, pad)
			if i > 0 {
				r = "," + r
			}
			if n+len(r) > size {
				break
			}
			bw.WriteString(r)
			n += len(r)
		}
		bw.WriteString(tail)
		bw.Flush()
		if zw != nil {
			zw.Close()
		}
		pw.Close()
	}()
	return pr
}

// BenchmarkWorstCheckpointRSS sends the worst request the default limits
// allow, a 64 MiB checkpoint (gzip compressed, so its length is unknown
// until read), to a server in a subprocess, and reports that process's peak
// RSS: in all, and above what it held before the request, against the
// checkpoint's decompressed size. Run with -benchtime 1x.
func BenchmarkWorstCheckpointRSS(b *testing.B) {
	for _, zip := range []bool{true, false} {
		b.Run(map[bool]string{true: "gzip", false: "plain-with-length"}[zip], func(b *testing.B) {
			const size = 64 << 20
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run", "^TestPeakRSSServer$", "-test.v")
				cmd.Env = append(os.Environ(), "GATEHOUSE_PEAK_RSS_SERVER=1")
				stdin, _ := cmd.StdinPipe()
				stdout, _ := cmd.StdoutPipe()
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				out := bufio.NewScanner(stdout)
				var url, path, lease string
				var base, peak int64
				for out.Scan() {
					if f := strings.Fields(out.Text()); len(f) == 5 && f[0] == "READY" {
						url, path, lease = f[1], f[2], f[3]
						base, _ = strconv.ParseInt(f[4], 10, 64)
						break
					}
				}
				req, _ := http.NewRequest("PATCH", url+path, checkpointBody(size, zip))
				req.Header.Set("Authorization", "update-token "+lease)
				if zip {
					req.Header.Set("Content-Encoding", "gzip")
				} else {
					// As the CLI sends an uncompressed body: with its length.
					n, _ := io.Copy(io.Discard, checkpointBody(size, false))
					req.ContentLength = n
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 204 {
					b.Fatalf("checkpoint: %d %s", resp.StatusCode, msg)
				}
				io.WriteString(stdin, "\n")
				for out.Scan() {
					if f := strings.Fields(out.Text()); len(f) == 2 && f[0] == "PEAK" {
						peak, _ = strconv.ParseInt(f[1], 10, 64)
					}
				}
				cmd.Wait()
				b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
				b.ReportMetric(float64(peak-base)/1024, "request-RSS-MiB")
				b.ReportMetric(float64(peak)*1024/size, "peak/size")
				b.ReportMetric(float64(peak-base)*1024/size, "request/size")
			}
		})
	}
}
