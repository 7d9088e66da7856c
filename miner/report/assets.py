"""What the page carries besides the data: its style, its script, and plotly.js from the installed
`plotly` package (inlined: the report opens from a mail attachment with no network)."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from importlib.resources import files

from ..errors import InputError


@lru_cache(maxsize=1)
def plotly_js() -> str:
    try:
        text = files("plotly").joinpath("package_data", "plotly.min.js").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise InputError("E654", f"plotly.js cannot be read from the plotly package ({exc}).",
                         "Reinstall miner's dependencies: pip install plotly.") from None
    return text.replace("</script", "<\\/script")


def csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


CSS = """
:root{--bg:#ffffff;--fg:#1d2330;--muted:#5b6473;--card:#f5f7fa;--line:#dde2ea;--accent:#3b6fb6;--neg:#d1495b;--pos:#2a9d8f;--neu:#8d99ae;--bar:#3b6fb6;color-scheme:light}
:root[data-theme=dark]{--bg:#14171d;--fg:#e6e9ef;--muted:#a3acba;--card:#1d222b;--line:#323946;--accent:#7aa7e8;--neg:#ef6f7f;--pos:#4cc3b3;--neu:#9aa6ba;--bar:#7aa7e8;color-scheme:dark}
@media (prefers-color-scheme: dark){:root:not([data-theme=light]){--bg:#14171d;--fg:#e6e9ef;--muted:#a3acba;--card:#1d222b;--line:#323946;--accent:#7aa7e8;--neg:#ef6f7f;--pos:#4cc3b3;--neu:#9aa6ba;--bar:#7aa7e8;color-scheme:dark}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","Noto Sans Arabic",sans-serif}
header{position:sticky;top:0;z-index:5;background:var(--bg);border-bottom:1px solid var(--line);padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
header h1{font-size:1.1rem;margin:0}
header nav{display:flex;flex-wrap:wrap;gap:.2rem .8rem}
header nav a{color:var(--accent);text-decoration:none;font-weight:500}
#theme-toggle{margin-left:auto;background:var(--card);color:var(--fg);border:1px solid var(--line);border-radius:6px;padding:.2rem .6rem;cursor:pointer}
main{max-width:1200px;margin:0 auto;padding:0 1rem 3rem}
section{padding-top:1rem;border-bottom:1px solid var(--line);padding-bottom:1.5rem;scroll-margin-top:4rem}
h2{font-size:1.35rem;margin:.6rem 0}
h3{font-size:1.05rem;margin:1rem 0 .4rem}
.meta,.note{color:var(--muted);font-size:.88rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:.6rem;margin:.6rem 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.6rem .8rem}
.card .v{font-size:1.5rem;font-weight:650}
.card .v.s{font-size:1.05rem;padding:.25rem 0}
.card .k{color:var(--muted);font-size:.85rem}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:1rem}
.chart{width:100%;min-height:160px}
.tablewrap{overflow-x:auto;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.35rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--card);position:sticky;top:0;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th button.sort{all:unset;cursor:pointer;font-weight:650}
th button.sort::after{content:" \\2195";color:var(--muted);font-size:.8em}
th[aria-sort=ascending] button.sort::after{content:" \\25B2"}
th[aria-sort=descending] button.sort::after{content:" \\25BC"}
button.open{all:unset;cursor:pointer;color:var(--accent);font-weight:600;padding:0 .3rem}
button.open[aria-expanded=true]{transform:rotate(90deg)}
tr.detail>td{background:var(--card)}
.detailgrid{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:.8rem}
.langbar{display:flex;height:10px;width:120px;border-radius:3px;overflow:hidden;background:var(--line)}
.langbar span{display:block;height:100%}
.pill{display:inline-block;border-radius:10px;padding:0 .45rem;font-size:.78rem;border:1px solid var(--line);background:var(--card);white-space:nowrap}
.pill.praise{border-color:var(--pos);color:var(--pos)}.pill.venting{border-color:var(--neu)}.pill.request{border-color:var(--accent);color:var(--accent)}
.pill.new,.pill.spike{border-color:var(--neg);color:var(--neg);font-weight:600}
.negbar{display:inline-block;height:8px;border-radius:2px;background:var(--neg);vertical-align:middle;margin-right:.3rem}
blockquote{margin:.3rem 0;padding:.3rem .6rem;border-left:3px solid var(--line);background:var(--bg);border-radius:0 4px 4px 0;overflow-wrap:anywhere;unicode-bidi:isolate}
blockquote .src{display:block;color:var(--muted);font-size:.78rem}
.kw{color:var(--muted)}
.heat{display:flex;flex-wrap:wrap;gap:4px;margin:.5rem 0}
.heat .stage{border:1px solid var(--line);border-radius:6px;padding:.3rem;flex:1 1 220px}
.heat .stage h4{margin:0 0 .3rem;font-size:.85rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.heat .tp{border-radius:4px;padding:.25rem .4rem;margin:2px 0;color:#111;font-size:.85rem;display:flex;justify-content:space-between;gap:.4rem}
a{color:var(--accent)}
bdi{unicode-bidi:isolate}
@media (max-width:640px){body{font-size:14px}main{padding:0 .5rem 2rem}.hide-s{display:none}header{position:static}th,td{padding:.3rem}}
@media print{header{position:static}#theme-toggle{display:none}}
"""


JS = r"""
(function(){
"use strict";
var DATA=JSON.parse(document.getElementById('report-data').textContent);
var root=document.documentElement;
function dark(){var t=root.getAttribute('data-theme');if(t)return t==='dark';return window.matchMedia&&window.matchMedia('(prefers-color-scheme: dark)').matches;}
function themeLayout(){var cs=getComputedStyle(root);var fg=cs.getPropertyValue('--fg').trim(),line=cs.getPropertyValue('--line').trim();
 return {paper_bgcolor:'rgba(0,0,0,0)',plot_bgcolor:'rgba(0,0,0,0)',font:{color:fg,family:'system-ui,-apple-system,Segoe UI,Roboto,Noto Sans,sans-serif',size:12},
  'xaxis.gridcolor':line,'yaxis.gridcolor':line,'xaxis.zerolinecolor':fg,'yaxis.zerolinecolor':fg,'xaxis.linecolor':line,'yaxis.linecolor':line};}
function merge(a,b){for(var k in b){if(b[k]&&typeof b[k]==='object'&&!Array.isArray(b[k])&&a[k]&&typeof a[k]==='object'){merge(a[k],b[k]);}else{a[k]=b[k];}}return a;}
var drawn=[];
function draw(el){
 if(el.getAttribute('data-drawn'))return;var spec=DATA.charts[el.getAttribute('data-chart')];if(!spec)return;
 var t=themeLayout();var layout=merge({margin:{l:50,r:20,t:20,b:40},autosize:true,hoverlabel:{namelength:-1}},JSON.parse(JSON.stringify(spec.layout||{})));
 layout.paper_bgcolor=t.paper_bgcolor;layout.plot_bgcolor=t.plot_bgcolor;layout.font=t.font;
 ['xaxis','yaxis','yaxis2'].forEach(function(ax){if(ax==='yaxis2'&&!layout.yaxis2)return;layout[ax]=merge(layout[ax]||{},{gridcolor:t['xaxis.gridcolor'],linecolor:t['xaxis.linecolor'],zerolinecolor:t['xaxis.zerolinecolor']});});
 Plotly.newPlot(el,spec.data,layout,{responsive:true,displayModeBar:false,displaylogo:false,showLink:false,showSendToCloud:false});
 el.setAttribute('data-drawn','1');drawn.push(el);
 if(el.getAttribute('data-chart')==='theme_map'){el.on('plotly_click',function(ev){var id=ev.points&&ev.points[0]&&ev.points[0].customdata&&ev.points[0].customdata[0];if(id!=null)openTheme(String(id));});}
}
function restyle(){var t=themeLayout();drawn.forEach(function(el){Plotly.relayout(el,t);});}
function visible(el){return !!(el.offsetWidth||el.offsetHeight||el.getClientRects().length);}
function drawVisible(){document.querySelectorAll('.chart[data-chart]').forEach(function(el){if(visible(el))draw(el);});}
document.getElementById('theme-toggle').addEventListener('click',function(){root.setAttribute('data-theme',dark()?'light':'dark');restyle();});
if(window.matchMedia){var mq=window.matchMedia('(prefers-color-scheme: dark)');if(mq.addEventListener)mq.addEventListener('change',restyle);}
function toggle(btn,force){var row=document.getElementById(btn.getAttribute('aria-controls'));if(!row)return;
 var open=force!==undefined?force:btn.getAttribute('aria-expanded')!=='true';btn.setAttribute('aria-expanded',open?'true':'false');row.hidden=!open;
 if(open)row.querySelectorAll('.chart[data-chart]').forEach(draw);}
document.querySelectorAll('button.open').forEach(function(b){b.addEventListener('click',function(){toggle(b);});});
function openTheme(id){var b=document.querySelector('button.open[data-theme-id="'+id.replace(/[^0-9]/g,'')+'"]');if(!b)return;toggle(b,true);b.scrollIntoView({block:'center'});b.focus();}
function cellValue(tb,col){var c=tb.rows[0].cells[col];if(!c)return '';var v=c.getAttribute('data-v');if(v===null)v=c.textContent.trim();var n=parseFloat(v);return (v!==''&&!isNaN(n)&&isFinite(v))?n:v.toLowerCase();}
document.querySelectorAll('table.sortable').forEach(function(table){
 table.querySelectorAll('th button.sort').forEach(function(btn){btn.addEventListener('click',function(){
  var th=btn.closest('th');var col=Array.prototype.indexOf.call(th.parentNode.children,th);
  var asc=th.getAttribute('aria-sort')!=='ascending';
  table.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});th.setAttribute('aria-sort',asc?'ascending':'descending');
  var bodies=Array.prototype.slice.call(table.tBodies);
  bodies.sort(function(a,b){var x=cellValue(a,col),y=cellValue(b,col);var xn=typeof x==='number',yn=typeof y==='number';
   if(xn&&!yn)return -1;if(yn&&!xn)return 1;if(x<y)return asc?-1:1;if(x>y)return asc?1:-1;return 0;});
  bodies.forEach(function(b){table.appendChild(b);});
 });});
});
drawVisible();
window.addEventListener('load',drawVisible);
window.minerReport={ready:true,charts:function(){return drawn.length;}};
})();
"""
