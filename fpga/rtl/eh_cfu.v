// The edgehost custom unit on PicoRV32's PCPI port: custom-0 opcode (0001011), R-type, the
// operation in funct3 (funct7 must be 0). docs/fpga.md documents the instructions;
// kernels_c/src/eh_rv_cfu.h wraps them for C.
//
//   funct3 0  XPC     rd = popcount(rs1 ^ rs2)                            (3 cycles in the unit)
//   funct3 1  SETLEN  len = rs1, aux = rs2; rd = 0
//   funct3 2  BDOT    rd = sum_{j<len} popcount(M32[rs1 + 4j] ^ M32[rs2 + 4j])
//                     (streams both vectors from RAM: 2 cycles per 32-bit word)
//   funct3 5  SETFC   rows = rs1, k = rs2 (bits per row, 1..32*len)
//   funct3 6  BFC     binary FC: row r (r < rows) is the len words at rs1 + 4*len*r; for each
//                     row c = sum_j popcount((M32[rs1 + 4(len r + j)] ^ M32[rs2 + 4j]) & mask_j)
//                     (mask_j all ones but on the last word: the low k mod 32 bits, when not 0)
//                     and M32[aux + 4r] = k - 2c (the int32 dot product of eh_fc_b1_s32);
//                     2 cycles per word plus about 5 per row; rd = 0
//   funct3 3  LIFCFG  shift = rs1[3:0] (1..15), reset_zero = rs1[8], thr = rs2[15:0]; rd = 0
//   funct3 4  LIF     for k < len, with v = (int16*)rs1, x = (int16*)rs2, s = (uint8*)aux:
//                       subtract: u = v - (v >> shift) + x - (s ? thr : 0)
//                       zero:     u = (s ? 0 : v - (v >> shift)) + x
//                       v[k] = sat16(u); s[k] = v[k] > thr        (6 cycles per neuron)
//                     rd = number of spikes written
// (`>>` is arithmetic: exactly the portable path of eh_lif_step_q15 with a shift leak.)
// BDOT, BFC and LIF take the RAM port (bus_req/bus_gnt) while the CPU waits on the instruction.
`default_nettype none
module eh_cfu #(
    parameter integer AW = 32   // address bits the unit keeps (the SoC decodes only its RAM's)
) (
    input  wire        clk,
    input  wire        resetn,
    input  wire        enable,
    input  wire        pcpi_valid,
    input  wire [31:0] pcpi_insn,
    input  wire [31:0] pcpi_rs1,
    input  wire [31:0] pcpi_rs2,
    output reg         pcpi_wr,
    output reg  [31:0] pcpi_rd,
    output reg         pcpi_wait,
    output reg         pcpi_ready,
    output reg         bus_req,
    input  wire        bus_gnt,
    output reg         bus_en,
    output reg  [3:0]  bus_we,
    output reg  [31:0] bus_addr,   // combinational from addr_q
    output reg  [31:0] bus_wdata,
    input  wire [31:0] bus_rdata
);
    // popcount as an adder tree (16 x 2-bit, 8 x 3-bit, 4 x 4-bit, 2 x 5-bit, 1 x 6-bit sums)
    function automatic [5:0] popcount32(input [31:0] v);
        reg [1:0] a [0:15];
        reg [2:0] b [0:7];
        reg [3:0] c [0:3];
        reg [4:0] d [0:1];
        integer i;
        begin
            for (i = 0; i < 16; i = i + 1) a[i] = {1'b0, v[2*i]} + {1'b0, v[2*i+1]};
            for (i = 0; i < 8; i = i + 1) b[i] = {1'b0, a[2*i]} + {1'b0, a[2*i+1]};
            for (i = 0; i < 4; i = i + 1) c[i] = {1'b0, b[2*i]} + {1'b0, b[2*i+1]};
            for (i = 0; i < 2; i = i + 1) d[i] = {1'b0, c[2*i]} + {1'b0, c[2*i+1]};
            popcount32 = {1'b0, d[0]} + {1'b0, d[1]};
        end
    endfunction

    wire is_cfu = pcpi_valid && pcpi_insn[6:0] == 7'b0001011 && pcpi_insn[31:25] == 7'd0
                  && pcpi_insn[14:12] <= 3'd6 && enable;

    localparam S_IDLE = 4'd0, S_DONE = 4'd1, S_BD = 4'd2, S_BD_DRAIN = 4'd3,
               S_L_V = 4'd4, S_L_X = 4'd5, S_L_S = 4'd6, S_L_CALC = 4'd7, S_L_WS = 4'd8,
               S_GRANT = 4'd9, S_FINISH = 4'd10, S_L_WS2 = 4'd11,
               S_ROW_WR = 4'd12;
    reg [3:0]  state;
    reg [2:0]  op;
    reg [31:0] len, cnt, result;
    reg [AW-1:0] aux, p1, p2;
    reg [3:0]  shift;
    reg        reset_zero;
    reg [15:0] thr;
    reg [31:0] rows, kbits, row;
    reg        iss_last, rd_last;
    wire [31:0] tailmask = (kbits[4:0] == 5'd0) ? 32'hffffffff : ((32'd1 << kbits[4:0]) - 32'd1);

    // BDOT pipeline
    reg [31:0] issue;          // reads issued (2 per word)
    reg        iss_v, iss_w;     // a read on the bus this cycle (and whether of the second vector)
    reg        rd_valid, rd_isw; // its data on bus_rdata this cycle
    reg [31:0] xq, dq;
    reg        dvalid;

    // LIF
    reg [31:0] k;
    reg [15:0] vq, xh;
    reg [1:0]  s_lane;
    reg        spk;

    // the LIF arithmetic of one neuron (combinational, on the latched v, x and the spike byte
    // arriving on bus_rdata)
    wire [7:0]  s_byte = bus_rdata[8*s_lane +: 8];
    wire        s_in = |s_byte;
    wire signed [17:0] v18 = {{2{vq[15]}}, vq};
    wire signed [17:0] x18 = {{2{xh[15]}}, xh};
    wire signed [17:0] t18 = {2'b00, thr};
    wire signed [17:0] leaked = v18 - (v18 >>> shift);
    wire signed [17:0] u_sub = leaked + x18 - (s_in ? t18 : 18'sd0);
    wire signed [17:0] u_zero = (s_in ? 18'sd0 : leaked) + x18;
    wire signed [17:0] u = reset_zero ? u_zero : u_sub;
    wire [15:0] u_sat = (u > 18'sd32767) ? 16'h7fff : (u < -18'sd32768) ? 16'h8000 : u[15:0];
    wire        spike_out = $signed(u_sat) > $signed(thr);

    wire [AW-1:0] v_addr = p1 + {k[AW-2:0], 1'b0};
    wire [AW-1:0] x_addr = p2 + {k[AW-2:0], 1'b0};
    wire [AW-1:0] s_addr = aux + k[AW-1:0];
    reg  [AW-1:0] addr_q;
    always @* bus_addr = {{(32-AW){1'b0}}, addr_q};

    always @(posedge clk) begin
        pcpi_ready <= 1'b0;
        pcpi_wr <= 1'b0;
        bus_en <= 1'b0;
        bus_we <= 4'b0;
        if (!resetn) begin
            state <= S_IDLE;
            pcpi_wait <= 1'b0;
            bus_req <= 1'b0;
            len <= 0; aux <= 0; shift <= 4'd1; reset_zero <= 1'b0; thr <= 16'd1;
            iss_v <= 1'b0; rd_valid <= 1'b0; dvalid <= 1'b0;
        end else begin
            case (state)
            S_IDLE: if (is_cfu) begin
                op <= pcpi_insn[14:12];
                p1 <= pcpi_rs1[AW-1:0];
                p2 <= pcpi_rs2[AW-1:0];
                pcpi_wait <= 1'b1;
                cnt <= 0;
                case (pcpi_insn[14:12])
                3'd0: state <= S_BD_DRAIN;   // through the BDOT popcount stage
                3'd1: begin len <= pcpi_rs1; aux <= pcpi_rs2[AW-1:0]; result <= 0; state <= S_FINISH; end
                3'd5: begin rows <= pcpi_rs1; kbits <= pcpi_rs2; result <= 0; state <= S_FINISH; end
                3'd3: begin shift <= pcpi_rs1[3:0]; reset_zero <= pcpi_rs1[8]; thr <= pcpi_rs2[15:0];
                            result <= 0; state <= S_FINISH; end
                default: begin
                    result <= 0;
                    if (len == 0 || (pcpi_insn[14:12] == 3'd6 && rows == 0)) state <= S_FINISH;
                    else begin bus_req <= 1'b1; state <= S_GRANT; end
                end
                endcase
                issue <= 0; k <= 0; row <= 0;
            end
            S_GRANT: if (bus_gnt) state <= (op == 3'd4) ? S_L_V : S_BD;
            // ---- BDOT: x word, w word, x word, ...; data one cycle later ----
            S_BD: begin
                bus_en <= 1'b1;
                addr_q <= (issue[0] ? p1 : p2) + {issue[AW-2:1], 2'b00};
                issue <= issue + 1;
                if (issue + 1 == {len[30:0], 1'b0}) state <= S_BD_DRAIN;
            end
            S_BD_DRAIN: if (!iss_v && !rd_valid && !dvalid) state <= (op == 3'd6) ? S_ROW_WR : S_FINISH;
            S_ROW_WR: begin  // BFC: the row's dot product, then the next row
                bus_en <= 1'b1;
                bus_we <= 4'b1111;
                addr_q <= aux + {row[AW-3:0], 2'b00};
                bus_wdata <= kbits - {cnt[30:0], 1'b0};
                cnt <= 0;
                row <= row + 1;
                p1 <= p1 + {len[AW-3:0], 2'b00};
                issue <= 0;
                state <= (row + 1 == rows) ? S_FINISH : S_BD;
            end
            // ---- LIF, one neuron per 5 cycles ----
            S_L_V: begin bus_en <= 1'b1; addr_q <= {v_addr[AW-1:2], 2'b00}; state <= S_L_X; end
            S_L_X: begin
                bus_en <= 1'b1; addr_q <= {x_addr[AW-1:2], 2'b00}; state <= S_L_S;
            end
            S_L_S: begin
                vq <= v_addr[1] ? bus_rdata[31:16] : bus_rdata[15:0];
                bus_en <= 1'b1; addr_q <= {s_addr[AW-1:2], 2'b00}; s_lane <= s_addr[1:0];
                state <= S_L_CALC;
            end
            S_L_CALC: begin
                xh <= x_addr[1] ? bus_rdata[31:16] : bus_rdata[15:0];
                state <= S_L_WS;
            end
            S_L_WS: begin
                // s byte is on bus_rdata now: write v, then s
                bus_en <= 1'b1;
                addr_q <= {v_addr[AW-1:2], 2'b00};
                bus_we <= v_addr[1] ? 4'b1100 : 4'b0011;
                bus_wdata <= {u_sat, u_sat};
                spk <= spike_out;
                state <= S_L_WS2;
            end
            S_L_WS2: begin
                bus_en <= 1'b1;
                addr_q <= {s_addr[AW-1:2], 2'b00};
                bus_we <= 4'b0001 << s_addr[1:0];
                bus_wdata <= {4{7'b0, spk}};
                result <= result + {31'd0, spk};
                k <= k + 1;
                state <= (k + 1 == len) ? S_FINISH : S_L_V;
            end
            S_FINISH: begin
                bus_req <= 1'b0;
                pcpi_wait <= 1'b0;
                pcpi_ready <= 1'b1;
                pcpi_wr <= 1'b1;
                pcpi_rd <= (op == 3'd2 || op == 3'd0) ? cnt : result;
                state <= S_DONE;
            end
            // the CPU drops pcpi_valid the cycle after it saw ready: do not start again on it
            S_DONE: state <= S_IDLE;
            default: state <= S_IDLE;
            endcase

            // BDOT data path (runs beside the state machine): bus cycle, data cycle, popcount
            iss_v <= (state == S_BD);
            iss_w <= issue[0];
            iss_last <= op == 3'd6 && issue[0] && issue[31:1] == len - 1;
            rd_valid <= iss_v;
            rd_isw <= iss_w;
            rd_last <= iss_last;
            if (rd_valid && !rd_isw) xq <= bus_rdata;
            if (rd_valid && rd_isw) dq <= (xq ^ bus_rdata) & (rd_last ? tailmask : 32'hffffffff);
            else if (state == S_IDLE && is_cfu) dq <= pcpi_rs1 ^ pcpi_rs2;
            dvalid <= (rd_valid && rd_isw) || (state == S_IDLE && is_cfu && pcpi_insn[14:12] == 3'd0);
            if (dvalid) cnt <= cnt + {26'd0, popcount32(dq)};
        end
    end
endmodule
`default_nettype wire
