package main

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"strings"
)

// drawChart reads the runs a -json run saved and draws, per workload, each
// contender's median wall time and peak RSS as a multiple of the workload's
// reference row: two panels of horizontal bars beside one column of row
// labels, in one SVG file. It uses only the standard library, so the
// module needs nothing to draw it.
func drawChart(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	var runs []run
	if err := json.Unmarshal(b, &runs); err != nil {
		return fmt.Errorf("%s: %v", from, err)
	}
	if len(runs) == 0 {
		return fmt.Errorf("%s: no results", from)
	}
	return os.WriteFile(to, []byte(svg(runs)), 0o644)
}

// Chart geometry, in pixels. Row labels are written once, left of both
// panels.
const (
	labelWidth = 370 // contender names, right-aligned left of the first panel
	barsWidth  = 240 // a bar of maxRatio; its value is written after it
	panelWidth = barsWidth + 90
	chartWidth = labelWidth + 2*panelWidth + 10
	barHeight  = 12
	barGap     = 3
	groupGap   = 26 // above each workload's bars, for its title
	topMargin  = 70
	maxRatio   = 3.0 // longer bars are cut, and marked so
)

func svg(runs []run) string {
	panels := []struct {
		title string
		value func(result) float64
	}{
		{"wall time", func(r result) float64 { return float64(r.WallNs) }},
		{"peak RSS", func(r result) float64 { return float64(r.RSSKB) }},
	}
	height := topMargin
	for _, r := range runs {
		height += groupGap + len(r.Contenders)*(barHeight+barGap)
	}
	height += 20

	var sb strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&sb, format+"\n", args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`, chartWidth, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>`)
	p(`<text x="10" y="22" font-size="15" font-weight="bold">Median wall time and peak RSS, as a multiple of each workload's reference row (lower is better)</text>`)
	scale := barsWidth / maxRatio
	for i, panel := range panels {
		barX := labelWidth + i*panelWidth
		p(`<text x="%d" y="50" font-size="13" font-weight="bold">%s</text>`, barX, panel.title)
		// Guides at 0.5×, 1× and 2×.
		for _, g := range []float64{0.5, 1, 2} {
			x := float64(barX) + g*scale
			p(`<line x1="%.1f" y1="58" x2="%.1f" y2="%d" stroke="%s" stroke-dasharray="3,3"/>`, x, x, height-20, map[bool]string{true: "#555", false: "#ccc"}[g == 1])
			p(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%g×</text>`, x, height-6, g)
		}
	}
	y := topMargin
	for _, r := range runs {
		p(`<text x="10" y="%d" font-weight="bold">%s %s (× %s)</text>`, y+groupGap-8, esc(r.Key), esc(r.Name), esc(r.Reference))
		y += groupGap
		for _, name := range r.Contenders {
			p(`<text x="%d" y="%d" text-anchor="end">%s</text>`, labelWidth-8, y+barHeight-2, esc(name))
			for i, panel := range panels {
				barX := labelWidth + i*panelWidth
				ratio := 0.0
				if ref := median(r.Results[r.Reference], panel.value); ref > 0 {
					ratio = median(r.Results[name], panel.value) / ref
				}
				w := min(ratio, maxRatio) * scale
				p(`<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, barX, y, w, barHeight, color(name))
				label := fmt.Sprintf("%.2f", ratio)
				if ratio > maxRatio {
					label += " (cut)"
				}
				p(`<text x="%.1f" y="%d" fill="#333">%s</text>`, float64(barX)+w+4, y+barHeight-2, label)
			}
			y += barHeight + barGap
		}
	}
	p(`</svg>`)
	return sb.String()
}

// color gives this module's contenders one colour, ants v2's another, and
// the rest shades of grey.
func color(name string) string {
	switch {
	case strings.HasPrefix(name, "this "):
		return "#1f6fd1"
	case strings.HasPrefix(name, "ants "):
		return "#d1451f"
	case name == "inline":
		return "#7fbf7f"
	}
	return "#9a9a9a"
}

func esc(s string) string { return html.EscapeString(s) }
